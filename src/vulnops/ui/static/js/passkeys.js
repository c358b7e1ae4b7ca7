// Passkeys: adding one on the account's Second factors page, and using one at the second step of
// a sign-in. The server sends the WebAuthn options as JSON and checks the answer
// (auth/passkey_pages.py); the CSRF token is the page's hidden csrftoken field.
(function () {
  "use strict";

  function csrf() {
    var field = document.querySelector('input[name="csrftoken"]');
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "x-csrftoken": csrf(),
      },
      body: body === undefined ? "{}" : JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error(data.detail || data.title || "refused");
        }
        return data;
      });
    });
  }

  function say(element, text) {
    if (element) {
      element.textContent = text;
    }
  }

  var add = document.getElementById("add-passkey");
  if (add) {
    var status = document.getElementById("passkey-status");
    add.addEventListener("click", function () {
      say(status, "Waiting for your device…");
      post("/account/security/passkeys/options")
        .then(function (options) {
          return navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
          });
        })
        .then(function (credential) {
          var name = document.getElementById("passkey-name");
          return post("/account/security/passkeys", {
            name: name ? name.value : "",
            credential: credential.toJSON(),
          });
        })
        .then(function (answer) {
          var codes = answer.recovery_codes || [];
          say(
            status,
            codes.length
              ? "Passkey added. Keep these recovery codes, shown only now: " + codes.join(" ")
              : "Passkey added; your other sessions are signed out."
          );
        })
        .catch(function (error) {
          say(status, "The passkey was not added: " + error.message);
        });
    });
  }

  var use = document.getElementById("use-passkey");
  if (use) {
    use.addEventListener("click", function () {
      post("/login/second-factor/passkey/options")
        .then(function (options) {
          return navigator.credentials.get({
            publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
          });
        })
        .then(function (credential) {
          return post("/login/second-factor/passkey", { credential: credential.toJSON() });
        })
        .then(function (answer) {
          window.location.assign(answer.next || "/");
        })
        .catch(function (error) {
          var alert = document.getElementById("passkey-error");
          if (alert) {
            alert.hidden = false;
          }
          say(alert, "The passkey did not sign you in: " + error.message);
        });
    });
  }
})();
