// Small behaviours of the signed-in pages, kept out of the HTML so the Content-Security-Policy allows no
// inline script: confirmation before destructive forms, and copy-to-clipboard buttons.
(function () {
  "use strict";
  // <form data-confirm="..."> or <button data-confirm="..."> inside a form: ask before submitting.
  // "{amount}" in the message is replaced by the value of the form's amount field.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (!message) { return; }
    var amount = form.querySelector("[name$=amount]");
    message = message.replace("{amount}", amount ? amount.value : "");
    if (!window.confirm(message)) { event.preventDefault(); }
  });
  // <button data-copy="element-id">: copy that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = "Copied"; });
    }
  });
}());
