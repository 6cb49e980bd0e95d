// Optional improvements only: the forms work the same without this file.
(function () {
  // A live character counter under each text box.
  document.querySelectorAll("textarea[data-counter]").forEach(function (box) {
    var counter = document.getElementById(box.dataset.counter);
    var limit = box.getAttribute("maxlength");
    function update() { counter.textContent = box.value.length + " of " + limit + " characters"; }
    box.addEventListener("input", update);
    update();
  });
  // A slider beside each percent box, kept in step with it.
  document.querySelectorAll("input[data-percent]").forEach(function (number) {
    var slider = document.createElement("input");
    slider.type = "range"; slider.min = 0; slider.max = 100; slider.step = 1;
    slider.value = number.value || 50;
    slider.setAttribute("aria-label", "Slider for the same answer");
    slider.tabIndex = -1;  // the number box is the keyboard's control
    slider.addEventListener("input", function () { number.value = slider.value; });
    number.addEventListener("input", function () { if (number.value !== "") slider.value = number.value; });
    number.parentNode.appendChild(slider);
  });
  // Bring the error summary into view and focus.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
