/*
 * SafeStream panic button: one script tag puts a "Report abuse" button on a video-call page.
 *
 *   <script src="https://safestream.example/static/panic-button.js"
 *           data-stream-id="call-123"
 *           data-key="pk_panic_..."
 *           data-endpoint="https://safestream.example/v1/panic"   (optional; default: same host as the script)
 *           data-platform="ExampleCall"></script>                 (optional)
 *
 * The key is a publishable panic-button key: it can only file panic reports for its organisation,
 * so it is safe to ship to browsers. The report carries the stream id and asks SafeStream to keep
 * the live monitor's evidence buffer for that stream.
 *
 * No framework, no build step. The widget lives in a shadow root so the host page's CSS cannot
 * hide or restyle it, and the host's scripts see one element: <safestream-panic-button>.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    return;
  }
  var MAX_ATTEMPTS = 6;
  var RETRY_MS = 2000;
  var MAX_WAIT_MS = 10000;
  var config = {
    streamId: script.getAttribute("data-stream-id") || "",
    key: script.getAttribute("data-key") || "",
    platform: script.getAttribute("data-platform") || "",
    endpoint: script.getAttribute("data-endpoint") || new URL("/v1/panic", script.src).href,
  };

  var STYLE = [
    ":host { all: initial; font-family: system-ui, sans-serif; }",
    ".open { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; background: #b00020;",
    "  color: #fff; border: 0; border-radius: 24px; padding: 12px 20px; font-size: 16px; font-weight: 600;",
    "  box-shadow: 0 2px 8px rgba(0,0,0,.35); cursor: pointer; }",
    ".open:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible",
    "  { outline: 3px solid #ffbf47; outline-offset: 2px; }",
    ".backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.55); z-index: 2147483647;",
    "  display: flex; align-items: center; justify-content: center; }",
    ".backdrop[hidden] { display: none; }",
    ".panel { background: #fff; color: #111; max-width: 420px; width: calc(100% - 32px); border-radius: 8px;",
    "  padding: 20px; box-shadow: 0 8px 32px rgba(0,0,0,.4); font-size: 15px; line-height: 1.4; }",
    "h2 { margin: 0 0 8px; font-size: 20px; }",
    "label, legend { display: block; font-weight: 600; margin: 12px 0 4px; }",
    "fieldset { border: 0; padding: 0; margin: 0; }",
    "fieldset label { display: inline-block; font-weight: 400; margin-right: 12px; }",
    "textarea { box-sizing: border-box; width: 100%; min-height: 80px; font: inherit; padding: 6px; }",
    ".actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 16px; }",
    ".actions button { font: inherit; padding: 8px 14px; border-radius: 4px; border: 1px solid #555;",
    "  background: #f2f2f2; cursor: pointer; }",
    ".actions .send { background: #b00020; border-color: #b00020; color: #fff; font-weight: 600; }",
    ".status { margin-top: 12px; }",
    ".status.error { color: #b00020; font-weight: 600; }",
    ".status.ok { color: #0a6b2d; font-weight: 600; }",
    ".hint { color: #444; font-size: 13px; }",
  ].join("\n");

  var FORM = [
    '<button type="button" class="open" aria-haspopup="dialog" aria-expanded="false">Report abuse</button>',
    '<div class="backdrop" hidden>',
    '  <div class="panel" role="dialog" aria-modal="true" aria-labelledby="ss-title">',
    '    <h2 id="ss-title">Report abuse in this call</h2>',
    '    <p class="hint">Your report goes to the safety team. Part of this call is kept as evidence.</p>',
    '    <form novalidate>',
    '      <label for="ss-what">What is happening?</label>',
    '      <textarea id="ss-what" name="what" maxlength="4000" aria-describedby="ss-optional"></textarea>',
    '      <p class="hint" id="ss-optional">Optional: you can send without writing anything.</p>',
    '      <fieldset>',
    '        <legend>Is a child in danger right now?</legend>',
    '        <label><input type="radio" name="danger" value="yes"> Yes</label>',
    '        <label><input type="radio" name="danger" value="no"> No</label>',
    '        <label><input type="radio" name="danger" value="unsure" checked> Not sure</label>',
    '      </fieldset>',
    '      <div class="status" role="status" aria-live="polite"></div>',
    '      <div class="actions">',
    '        <button type="button" class="cancel">Cancel</button>',
    '        <button type="submit" class="send">Send report</button>',
    '      </div>',
    '    </form>',
    '    <div class="done" hidden>',
    '      <p class="status ok" role="status" aria-live="polite"></p>',
    '      <div class="actions"><button type="button" class="close">Close</button></div>',
    '    </div>',
    '  </div>',
    '</div>',
  ].join("\n");

  function newIdempotencyKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // The API's one error shape: {"error": "...", "errors": [{"field", "message"}]}.
  function errorText(status, body) {
    if (body && Array.isArray(body.errors) && body.errors.length) {
      return body.errors.map(function (e) {
        return (e.field ? e.field + ": " : "") + (e.message || "invalid");
      }).join("; ");
    }
    if (body && typeof body.error === "string") {
      return body.error;
    }
    return "The report could not be sent (HTTP " + status + ").";
  }

  function mount() {
    var host = document.createElement("safestream-panic-button");
    var root = host.attachShadow({ mode: "open" });
    root.innerHTML = "<style>" + STYLE + "</style>" + FORM;
    document.body.appendChild(host);

    var openButton = root.querySelector(".open");
    var backdrop = root.querySelector(".backdrop");
    var form = root.querySelector("form");
    var what = root.querySelector("#ss-what");
    var status = root.querySelector(".status");
    var send = root.querySelector(".send");
    var cancel = root.querySelector(".cancel");
    var done = root.querySelector(".done");
    var doneStatus = done.querySelector(".status");
    var closeButton = done.querySelector(".close");
    // One idempotency key per distinct report: resending the same words after a network error
    // cannot file it twice, while an edited report gets a key of its own.
    var idempotencyKey = newIdempotencyKey();
    var lastSent = null;

    function setStatus(text, kind) {
      status.textContent = text;
      status.className = "status" + (kind ? " " + kind : "");
    }

    // A busy or absent store answers 503 with Retry-After: the press is sent again with the same
    // idempotency key (it cannot be filed twice) a few times, waiting as asked (at most
    // MAX_WAIT_MS), before the viewer is told. A network error is shown at once: the viewer's
    // connection may be gone, and pressing again resends the same key.
    function sendPress(content, attempt) {
      return fetch(config.endpoint, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + config.key },
        body: content,
      }).then(function (response) {
        if (response.status === 503 && attempt < MAX_ATTEMPTS) {
          var asked = parseInt(response.headers.get("Retry-After") || "", 10);
          return retryAfter(content, attempt, isNaN(asked) ? RETRY_MS : asked * 1000);
        }
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) {
            throw new Error(errorText(response.status, body));
          }
          return body;
        });
      });
    }

    function retryAfter(content, attempt, waitMs) {
      setStatus("Still sending: the service is busy, trying again…", "");
      return new Promise(function (resolve) {
        window.setTimeout(resolve, Math.min(Math.max(waitMs, 0), MAX_WAIT_MS));
      }).then(function () { return sendPress(content, attempt + 1); });
    }

    function open() {
      backdrop.hidden = false;
      form.hidden = false;
      done.hidden = true;
      openButton.setAttribute("aria-expanded", "true");
      setStatus("", "");
      what.focus();
    }

    // After sending, the form gives way to a confirmation with only a Close button, which takes
    // the focus, so Escape and Tab still act on the dialog and nothing offers to send again.
    function confirmSent(text) {
      form.hidden = true;
      doneStatus.textContent = text;
      done.hidden = false;
      closeButton.focus();
    }

    function close() {
      backdrop.hidden = true;
      openButton.setAttribute("aria-expanded", "false");
      openButton.focus();
    }

    openButton.addEventListener("click", open);
    cancel.addEventListener("click", close);
    closeButton.addEventListener("click", close);
    // Focus that leaves the open dialog (a click on the backdrop, a disabled button) comes back.
    backdrop.addEventListener("focusout", function (event) {
      if (backdrop.hidden || (event.relatedTarget && backdrop.contains(event.relatedTarget))) {
        return;
      }
      window.setTimeout(function () {
        if (!backdrop.hidden && !backdrop.contains(root.activeElement)) {
          (done.hidden ? what : closeButton).focus();
        }
      }, 0);
    });
    backdrop.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        close();
        return;
      }
      // Keep Tab inside the dialog while it is open (a modal must not leak focus to the page).
      if (event.key === "Tab") {
        var focusable = Array.prototype.filter.call(
          root.querySelectorAll(".panel textarea, .panel input, .panel button:not([disabled])"),
          function (el) { return el.offsetParent !== null; }
        );
        var first = focusable[0];
        var last = focusable[focusable.length - 1];
        if (event.shiftKey && root.activeElement === first) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && root.activeElement === last) {
          event.preventDefault();
          first.focus();
        }
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = what.value.trim();
      if (!config.streamId || !config.key) {
        setStatus("This page's report button is not set up (missing stream id or key).", "error");
        return;
      }
      var danger = root.querySelector('input[name="danger"]:checked');
      var payload = {
        stream_id: config.streamId,
        description: text,
        child_in_danger: danger ? danger.value : "unsure",
        platform: config.platform || null,
        // The page, not its query or fragment: call links often carry tokens and names there.
        page_url: window.location.origin + window.location.pathname,
      };
      var content = JSON.stringify(payload);
      if (lastSent !== null && lastSent !== content) {
        idempotencyKey = newIdempotencyKey();
      }
      lastSent = content;
      payload.idempotency_key = idempotencyKey;
      send.disabled = true;
      setStatus("Sending…", "");
      sendPress(JSON.stringify(payload), 1)
        .then(function (body) {
          var ref = body && body.report_id ? " Reference: " + body.report_id + "." : "";
          setStatus("", "");
          confirmSent("Thank you. Your report was sent and the safety team has been alerted." + ref);
          form.reset();
          idempotencyKey = newIdempotencyKey();
          lastSent = null;
        })
        .catch(function (error) {
          var text = error instanceof TypeError ? "Network error: the report was not sent. Please try again." : error.message;
          setStatus(text, "error");
        })
        .then(function () {
          send.disabled = false;
          if (!form.hidden && !backdrop.contains(root.activeElement)) {
            send.focus();
          }
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
