package devidp

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
)

// loginPage is the provider's login UI: op redirects the browser here with the auth request
// ID, and a right username and password send it back to op's callback.
type loginPage struct {
	store       *storage
	callbackURL func(ctx context.Context, authRequestID string) string
	usernames   []string // shown as a hint: this is a development login
	logger      *slog.Logger
}

// loginForm is what the login template shows.
type loginForm struct {
	AuthRequestID string
	ClientID      string
	Username      string
	Error         string
	Usernames     []string
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · development login</title>
<style>
body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.8rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.45rem;box-sizing:border-box}
button{margin-top:1rem;padding:.45rem 1.2rem}
.note{color:#555;font-size:.9rem}
.error{color:#b00020;font-weight:600}
</style>
</head>
<body>
<h1>Sign in</h1>
<p class="note">Development login{{with .ClientID}} for <strong>{{.}}</strong>{{end}}: never use it in production.</p>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="` + loginPath + `">
<input type="hidden" name="authRequestID" value="{{.AuthRequestID}}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{{with .Usernames}}<p class="note">Users: {{range $i, $u := .}}{{if $i}}, {{end}}<code>{{$u}}</code>{{end}}</p>{{end}}
</body>
</html>
`))

var messageTemplate = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} · development login</title></head>
<body style="font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem">
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
</body>
</html>
`))

func (p *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.show(w, r)
	case http.MethodPost:
		p.submit(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *loginPage) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	req, err := p.store.loginRequest(id)
	if err != nil {
		p.expired(w)
		return
	}
	p.render(w, loginForm{AuthRequestID: id, ClientID: req.clientID, Username: req.loginHint, Usernames: p.usernames})
}

// submit checks the credentials. A wrong password shows the form again (no redirect, so the
// browser stays on the page); a right one completes the auth request and hands the browser to
// op's callback, which redirects to the client with the code.
func (p *loginPage) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("authRequestID")
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	req, err := p.store.loginRequest(id)
	if err != nil {
		p.expired(w)
		return
	}
	subject, ok := p.store.checkPassword(username, password)
	if !ok {
		p.logger.InfoContext(r.Context(), "devidp: sign-in refused: wrong username or password",
			"username", username, "client_id", req.clientID)
		p.render(w, loginForm{AuthRequestID: id, ClientID: req.clientID, Username: username,
			Error: "Wrong username or password.", Usernames: p.usernames})
		return
	}
	if err := p.store.completeLogin(id, subject); err != nil {
		p.expired(w)
		return
	}
	p.logger.InfoContext(r.Context(), "devidp: signed in", "username", username, "client_id", req.clientID)
	http.Redirect(w, r, p.callbackURL(r.Context(), id), http.StatusSeeOther)
}

func (p *loginPage) expired(w http.ResponseWriter) {
	writeHTML(w, http.StatusBadRequest, messageTemplate, map[string]string{
		"Title": "Sign-in request expired",
		"Text":  "This sign-in request is unknown, complete or expired. Go back to the application and sign in again.",
	})
}

func (p *loginPage) render(w http.ResponseWriter, form loginForm) {
	writeHTML(w, http.StatusOK, loginTemplate, form)
}

// loggedOut is where logout lands when the client named no post_logout_redirect_uri.
func loggedOut(w http.ResponseWriter, _ *http.Request) {
	writeHTML(w, http.StatusOK, messageTemplate, map[string]string{
		"Title": "Signed out",
		"Text":  "You are signed out of the development login.",
	})
}

func writeHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}
