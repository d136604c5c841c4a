// Live status on the hosted checkout page: a WebSocket with a signed token, polling as a fallback.
(function () {
  "use strict";
  var root = document.getElementById("checkout");
  if (!root) { return; }
  var checkoutId = root.dataset.checkout;
  var label = document.getElementById("status-label");
  var text = document.getElementById("status-message");
  var payForm = document.getElementById("pay-form");
  var payButton = document.getElementById("pay-button");
  var continueLink = document.getElementById("continue-link");
  var cancelLink = document.getElementById("cancel-link");
  var card = document.querySelector(".status-card");
  var paying = root.dataset.paying === "1";
  var canceled = root.dataset.canceled === "1";
  var finished = false;
  var pollTimer = null;

  function show(message) {
    if (!message || message.type === "ping") { return; }
    // After a cancel the open session is still "redirect"; keep saying "Canceled" until something changes.
    if (canceled && (message.state === "redirect" || message.state === "ready")) { return; }
    canceled = false;
    // Paid or pending: reload, so the page shows what the server knows (the receipt, the transfer details).
    if ((message.state === "paid" || message.state === "pending") && root.dataset.state !== message.state) {
      window.location.reload();
      return;
    }
    var resuming = message.state === "redirect" && !paying && root.dataset.state === "redirect";
    root.dataset.state = message.state;
    card.className = "card status-card state-" + message.state;
    if (!resuming) {  // the page already says the payment page is open; nothing is redirecting the buyer
      label.textContent = message.label;
      text.textContent = message.message;
    }
    if (message.state === "redirect" && message.redirect_url) {
      if (paying) {
        // Replace this "Connecting…" page in the history: Back from the payment page returns to the shop's
        // checkout page as it was before Pay, not to a page that would redirect again.
        window.location.replace(message.redirect_url);
        return;
      }
      payButton.textContent = "Continue to payment";
    }
    if (message.state === "failed") { payButton.textContent = "Try again"; }
    payForm.hidden = !(message.can_retry || (message.state === "redirect" && !paying));
    if ((message.state === "paid" || message.state === "pending") && message.continue_url) {
      continueLink.href = message.continue_url;
      continueLink.hidden = false;
    }
    if (cancelLink) { cancelLink.hidden = message.state === "paid" || message.state === "pending"; }
    finished = message.state === "paid";
  }

  function poll() {
    if (finished) { return; }
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {})
      .finally(function () { pollTimer = setTimeout(poll, 2000); });
  }

  function startPolling() {
    if (!pollTimer && !finished) { poll(); }
  }

  function connect(attempt) {
    // The live server (LIVE_URL) when it has an origin of its own, else this page's host.
    var base = root.dataset.liveUrl ||
      (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
    var url = base + "/ws/checkouts/" + encodeURIComponent(checkoutId) +
      "?token=" + encodeURIComponent(root.dataset.token);
    var socket;
    try { socket = new WebSocket(url); } catch (e) { startPolling(); return; }
    var opened = false;
    socket.onopen = function () { opened = true; };
    socket.onmessage = function (event) {
      try { show(JSON.parse(event.data)); } catch (e) { /* ignore a malformed frame */ }
    };
    socket.onclose = function () {
      if (finished) { return; }
      if (!opened || attempt >= 5) { startPolling(); return; }
      setTimeout(function () { connect(attempt + 1); }, 500 * Math.pow(2, attempt));
    };
  }

  if (payForm) {
    payForm.addEventListener("submit", function () {
      payButton.disabled = true;
      payButton.textContent = "Connecting…";
    });
  }
  if (root.dataset.state !== "paid") { connect(0); }
}());
