// Payout schedule fields: show the weekday only for weekly schedules and the day of the month only for monthly
// ones. Without JavaScript every field shows and the server ignores the ones that do not apply.
document.querySelectorAll("[data-schedule]").forEach((fieldset) => {
  const interval = fieldset.querySelector("select[name$='interval']");
  if (!interval) return;
  const sync = () => {
    fieldset.querySelectorAll("[data-interval]").forEach((part) => {
      part.hidden = part.dataset.interval !== interval.value;
    });
  };
  interval.addEventListener("change", sync);
  sync();
});
