// Optional improvements only: the forms work the same without this file.
(function () {
  // A live character counter under each text box.
  document.querySelectorAll("textarea[data-counter]").forEach(function (box) {
    var counter = document.getElementById(box.dataset.counter);
    var limit = box.getAttribute("maxlength");
    // The page gives the wording in its language, with {count} and {limit} to fill in.
    var words = box.dataset.counterText || "{count} of {limit} characters";
    function update() {
      counter.textContent = words.replace("{count}", box.value.length).replace("{limit}", limit);
    }
    box.addEventListener("input", update);
    update();
  });
  // A slider beside each percent box, kept in step with it. While the box is empty the
  // slider shows no thumb, so an unanswered question never looks answered (or suggests 50).
  document.querySelectorAll("input[data-percent]").forEach(function (number) {
    var notSure = document.querySelector("input[data-not-sure='" + number.id + "']");
    var slider = document.createElement("input");
    slider.type = "range"; slider.min = 0; slider.max = 100; slider.step = 1;
    slider.setAttribute("aria-label", number.dataset.sliderLabel || "Slider for the same answer");
    slider.tabIndex = -1;  // the number box is the keyboard's control
    function showEmpty(empty) {
      slider.classList.toggle("untouched", empty);
      if (empty) slider.value = 50;
    }
    showEmpty(number.value === "");
    if (number.value !== "") slider.value = number.value;
    slider.addEventListener("input", function () {
      number.value = slider.value; showEmpty(false);
      if (notSure) notSure.checked = false;
    });
    number.addEventListener("input", function () {
      showEmpty(number.value === "");
      if (number.value !== "") { slider.value = number.value; if (notSure) notSure.checked = false; }
    });
    if (notSure) notSure.addEventListener("change", function () {
      if (notSure.checked) { number.value = ""; showEmpty(true); }
    });
    var unit = number.parentNode.querySelector("span[aria-hidden]");
    number.parentNode.insertBefore(slider, unit ? unit.nextSibling : null);
  });
  // A ranking of what was ticked above on the same page offers only the ticked options.
  document.querySelectorAll("fieldset[data-rank-from]").forEach(function (ranking) {
    var boxes = document.querySelectorAll("input[type=checkbox][name='" + ranking.dataset.rankFrom + "']");
    function update() {
      var ticked = {};
      boxes.forEach(function (box) { if (box.checked) ticked[box.value] = true; });
      ranking.querySelectorAll("option").forEach(function (option) {
        var offered = option.value === "" || ticked[option.value];
        option.hidden = !offered; option.disabled = !offered;
        if (!offered && option.selected) option.parentNode.value = "";
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });
  // Bring the error summary into view and focus.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
