"""Daily reconciliation: the PSP's settlement reports against our records, our ledger and our wallets.

- settlement: importing a report file (streamed, exact amounts, once per content)
- fetch: the day's report runs through the PSP's Reporting API
- ours: our side, staged set-based in the database
- matching: the set-based match and the classification of each difference
- findings: the day's mismatches (re-runs replace them; timing carried forward and escalated)
- autofix: lost news about charges and refunds, fetched again and applied through the normal event path
- balances: our books against the PSP's balances of the platform and of each connected account
- queue, audit: the admin queue's actions and their audit trail
- runs: one day's run, start to end
"""
