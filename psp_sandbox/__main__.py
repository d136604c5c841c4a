from psp_sandbox.cli import main

main()
