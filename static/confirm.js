// Forms marked data-confirm ask before they submit; "{amount}" in the question is the form's amount field.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var amount = form.querySelector("[name$=amount]");
      var question = form.dataset.confirm.replace("{amount}", amount ? amount.value : "");
      if (!window.confirm(question)) { event.preventDefault(); }
    });
  });
}());
