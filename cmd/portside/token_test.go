package main

import (
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/store/storetest"
)

// A CLI token lives token-max-lifetime unless --ttl says less; only --never-expires makes one
// without end.
func TestTokenCreateExpiresUnlessToldNeverTo(t *testing.T) {
	for dialect, url := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(dialect, func(t *testing.T) { tokenLifetimes(t, url(t)) })
	}
}

func tokenLifetimes(t *testing.T, db string) {
	env := []string{"PORTSIDE_DATABASE_URL=" + db, "PORTSIDE_MIGRATE=true", "PORTSIDE_TOKEN_MAX_LIFETIME=48h"}
	tests := []struct {
		name string
		args []string
		code int
		want string // in the first line of stdout, or in stderr when code != 0
	}{
		{"default", nil, 0, "expires: " + time.Now().UTC().Add(48*time.Hour).Format("2006-01-02")},
		{"shorter", []string{"--ttl", "1h"}, 0, "expires: " + time.Now().UTC().Add(time.Hour).Format("2006-01-02")},
		{"too long", []string{"--ttl", "49h"}, 1, "token-max-lifetime"},
		{"never", []string{"--never-expires"}, 0, "expires: never"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := portside(t, env, append([]string{"token", "create", "--user", "erin", "--name", tc.name}, tc.args...)...)
			wantExit(t, r, tc.code, "portside token create "+strings.Join(tc.args, " "))
			out := r.stderr
			if tc.code == 0 {
				out = strings.SplitN(r.stdout, "\n", 2)[0]
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output %q lacks %q", out, tc.want)
			}
		})
	}
}
