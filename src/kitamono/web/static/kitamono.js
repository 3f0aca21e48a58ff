// kitamono web: the one script of the pages. It shows the routing suggestion while a new
// inquiry is typed; every page works without it (the form's 提案を見る button does the same).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("new-case");
  var target = document.getElementById("suggestion-body");
  if (!form || !target) { return; }
  var timer = null;
  var asked = 0;
  function suggest() {
    var data = new FormData(form);
    data.delete("csrf_token");
    var query = new URLSearchParams(data).toString();
    var mine = ++asked;
    fetch(form.dataset.suggest + "?" + query, {credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== asked) { return; }  // a later answer is on its way
        var page = new DOMParser().parseFromString(html, "text/html");
        target.replaceChildren.apply(target, Array.from(page.body.childNodes));
      })
      .catch(function () {});
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 300);
  });
});
