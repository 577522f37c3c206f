// keyward's progressive enhancements. Every page works without this file.
"use strict";

// App Location: show only the fields of the chosen option. Without JavaScript
// all fields show, labelled, and the server keeps only the chosen option's.
function initLocationFields(root) {
  const radios = root.querySelectorAll('input[type="radio"][name="location"]');
  if (radios.length === 0) return;
  const update = () => {
    const chosen = root.querySelector('input[name="location"]:checked');
    const value = chosen ? chosen.value : "0";
    root.querySelectorAll(".location-fields").forEach((fields) => {
      fields.hidden = fields.dataset.location !== value;
    });
  };
  radios.forEach((radio) => radio.addEventListener("change", update));
  update();
}

// Copy buttons: data-copy names the input whose value is copied. Falls back to
// selecting the text so the admin can copy it by hand.
function initCopyButtons(root) {
  root.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      const status = document.getElementById("copy-status");
      if (!input) return;
      const say = (text) => { if (status) status.textContent = text; };
      try {
        if (!navigator.clipboard || !window.isSecureContext) throw new Error("clipboard unavailable");
        await navigator.clipboard.writeText(input.value);
        button.textContent = button.dataset.copiedLabel || "Copied";
        say("Copied to the clipboard.");
      } catch (_) {
        input.focus();
        input.select();
        say("Selected: press Ctrl+C (or ⌘C) to copy.");
      }
    });
  });
}

// GET forms marked data-minimal-url leave out empty fields and fields at their
// default (data-default), so a URL that is shared says only what was chosen.
// (Without JavaScript the server redirects to the same minimal URL.)
function initMinimalUrls(root) {
  root.querySelectorAll("form[data-minimal-url]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const params = new URLSearchParams();
      for (const [name, value] of new FormData(form)) {
        const field = form.elements.namedItem(name);
        const fallback = field && field.dataset ? field.dataset.default : undefined;
        if (value === "" || value === fallback) continue;
        params.append(name, value);
      }
      const query = params.toString();
      window.location.assign(form.action.split("?")[0] + (query ? "?" + query : ""));
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initLocationFields(document);
  initCopyButtons(document);
  initMinimalUrls(document);
});

// API Keys list: when htmx swaps in a new table (search as you type, a filter,
// a page link), say what it shows in the live region beside it. A region that
// arrives with the new content would not be read out.
document.addEventListener("htmx:after:swap", () => {
  const table = document.getElementById("apps-table");
  const status = document.getElementById("apps-status");
  if (table && status) status.textContent = table.dataset.summary || "";
});
