// Live progress of a reconciliation run on its admin page: a WebSocket (the admin's session), reload when done.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || box.dataset.status !== "running") { return; }
  var bar = document.getElementById("run-progress");
  var stage = document.getElementById("run-stage");
  var labels = { requesting: "Asking the PSP for its reports", downloading: "Downloading the reports",
    importing: "Importing rows", matching: "Matching", resolving: "Fixing what is safe", balances: "Comparing balances",
    done: "Done" };
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + "/ws/reconciliation/" + encodeURIComponent(box.dataset.run));
  socket.onmessage = function (event) {
    var message = JSON.parse(event.data);
    if (message.stage) {
      var text = labels[message.stage] || message.stage;
      if (message.stage === "importing" && message.done) { text += ": " + message.done.toLocaleString(); }
      stage.textContent = text;
      if (message.total) { bar.max = message.total; bar.value = message.done; } else { bar.removeAttribute("value"); }
    }
    if (message.status && message.status !== "running") {
      stage.textContent = "Finished: " + message.status;
      window.setTimeout(function () { window.location.reload(); }, 300);
    }
  };
  socket.onclose = function () {
    if (box.dataset.status === "running") { window.setTimeout(function () { window.location.reload(); }, 2000); }
  };
}());
