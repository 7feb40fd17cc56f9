/* Draws a generated, abstract "video" on each canvas tile of the demo call page (no media). */
(function () {
  "use strict";
  var tiles = [document.getElementById("tile-0"), document.getElementById("tile-1")];
  var palettes = [["#2f6f9f", "#7fb3d5", "#f0c987"], ["#4f7f52", "#a3c9a8", "#e8d8b0"]];
  var clock = document.getElementById("clock");
  var started = Date.now();

  function draw(canvas, palette, t) {
    var ctx = canvas.getContext("2d");
    var w = canvas.width, h = canvas.height;
    var g = ctx.createLinearGradient(0, 0, w, h);
    g.addColorStop(0, palette[0]);
    g.addColorStop(1, palette[1]);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    // A slowly bobbing head-and-shoulders silhouette stands in for a participant.
    var bob = Math.sin(t / 700) * 6;
    ctx.fillStyle = palette[2];
    ctx.beginPath();
    ctx.arc(w / 2, h / 2 - 20 + bob, 46, 0, Math.PI * 2);
    ctx.fill();
    ctx.beginPath();
    ctx.ellipse(w / 2, h + 30 + bob, 110, 90, 0, Math.PI, 0);
    ctx.fill();
  }

  function frame() {
    var t = Date.now() - started;
    for (var i = 0; i < tiles.length; i++) {
      if (tiles[i]) { draw(tiles[i], palettes[i], t + i * 900); }
    }
    var s = Math.floor(t / 1000);
    clock.textContent = ("0" + Math.floor(s / 60)).slice(-2) + ":" + ("0" + (s % 60)).slice(-2);
    window.requestAnimationFrame(frame);
  }
  window.requestAnimationFrame(frame);
})();
