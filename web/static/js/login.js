// The login form: POST /api/v1/auth/login, then on to the user's first page (console, driver…).
import { api } from "./api.js";
import { applyI18n, t, toggleLang } from "./i18n.js";

const form = document.querySelector("[data-testid=login-form]");
const errorBox = document.querySelector("[data-testid=login-error]");
const submit = document.querySelector("[data-testid=login-submit]");

applyI18n();
document.querySelector("[data-testid=lang-toggle]").addEventListener("click", toggleLang);

function showError(text) {
  errorBox.textContent = text;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    (username ? form.password : form.username).focus();
    return;
  }
  showError("");
  submit.disabled = true;
  submit.textContent = t("login.busy");
  try {
    const me = await api("/api/v1/auth/login", {
      method: "POST",
      body: { username, password },
      redirectOn401: false,
    });
    window.location.assign(me?.landing || "/console");
  } catch (err) {
    if (err.status === 401) showError(t("login.failed"));
    else if (err.status === 429) showError(t("login.throttled"));
    else showError(t("login.error", { message: err.message }));
    form.password.select();
  } finally {
    submit.disabled = false;
    submit.textContent = t("login.submit");
  }
});
