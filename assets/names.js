// Accessible names for the progress bars, which dash-bootstrap-components' Progress cannot take:
// each unnamed bar is named by the data-name of the element around it.
new MutationObserver(() => {
  for (const bar of document.querySelectorAll("[role=progressbar]:not([aria-label])")) {
    const name = bar.closest("[data-name]")?.dataset.name;
    if (name) bar.setAttribute("aria-label", name);
  }
}).observe(document.documentElement, { childList: true, subtree: true });
