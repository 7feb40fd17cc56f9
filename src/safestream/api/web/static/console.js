/* Console behaviour that needs script: click a blurred file to unblur it (and again to blur). */
(function () {
  "use strict";
  document.querySelectorAll("[data-unblur]").forEach(function (frame) {
    frame.setAttribute("tabindex", "0");
    frame.setAttribute("role", "button");
    frame.setAttribute("aria-pressed", "false");
    function toggle() {
      var on = frame.classList.toggle("unblurred");
      frame.setAttribute("aria-pressed", on ? "true" : "false");
    }
    frame.addEventListener("click", toggle);
    frame.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        toggle();
      }
    });
  });
})();
