// Buttons with data-confirm ask before they submit (the console's CSP allows no inline onclick handlers).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
