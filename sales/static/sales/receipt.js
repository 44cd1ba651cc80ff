/* Receipt page keys: P or Enter prints, N or F2 starts a new sale. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    if (e.key === "p" || e.key === "P" || e.key === "Enter") { e.preventDefault(); window.print(); }
    if (e.key === "n" || e.key === "N" || e.key === "F2") { e.preventDefault(); document.getElementById("new-sale").click(); }
  });
})();
