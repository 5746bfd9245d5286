// LZBooru pages: drop, paste or choose a picture to search with it; tag suggestions while browsing.
// Served as a file (the Content-Security-Policy allows no inline script); nothing is fetched from
// elsewhere.
"use strict";

(function () {
  var form = document.getElementById("search-form");
  if (form) {
    var input = document.getElementById("image");
    var url = document.getElementById("url");
    var zone = document.getElementById("drop-zone");

    var send = function () {
      zone.classList.add("busy");
      form.submit();
    };
    var searchFile = function (file) {
      if (!file || file.type.indexOf("image/") !== 0) {
        return false;
      }
      var chosen = new DataTransfer();
      chosen.items.add(file);
      input.files = chosen.files;
      url.value = "";
      send();
      return true;
    };
    var searchUrl = function (text) {
      text = (text || "").trim().split("\n")[0];
      if (!/^https?:\/\//i.test(text)) {
        return false;
      }
      url.value = text;
      input.value = "";
      send();
      return true;
    };

    input.addEventListener("change", function () {
      if (input.files.length) {
        send();
      }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("over");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      var data = event.dataTransfer;
      if (!searchFile(data.files[0])) {
        searchUrl(data.getData("text/uri-list") || data.getData("text/plain"));
      }
    });
    document.addEventListener("paste", function (event) {
      var data = event.clipboardData;
      if (!data || (event.target === url && !data.files.length)) {
        return;  // typing or pasting into the URL field: leave it to the field
      }
      for (var i = 0; i < data.items.length; i++) {
        if (data.items[i].kind === "file" && searchFile(data.items[i].getAsFile())) {
          event.preventDefault();
          return;
        }
      }
      if (searchUrl(data.getData("text/plain"))) {
        event.preventDefault();
      }
    });
  }

  var tags = document.getElementById("tags");
  if (tags) {
    var list = document.getElementById("tag-suggestions");
    var timer = null;
    var suggest = function () {
      var terms = tags.value.split(" ");
      var last = terms.pop();
      var negated = last.charAt(0) === "-";
      var prefix = negated ? last.slice(1) : last;
      if (!prefix) {
        list.replaceChildren();
        return;
      }
      fetch(tags.dataset.suggest + "?q=" + encodeURIComponent(prefix), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (found) {
          var before = terms.length ? terms.join(" ") + " " : "";
          list.replaceChildren.apply(list, found.map(function (tag) {
            var option = document.createElement("option");
            option.value = before + (negated ? "-" : "") + tag;
            return option;
          }));
        })
        .catch(function () { list.replaceChildren(); });
    };
    tags.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 150);
    });
  }
})();
