package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// A kubeconfig the companion cannot use stops serve at start with a message that names the
// setting: portside checks the file is there, the companion (which alone links client-go)
// parses it, and its refusal crosses the plugin connection with its field. The credentials in
// the file never appear in the output.
func TestServeWithABrokenKubeconfigSaysWhichSetting(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeFile(t, kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: kube-secret-token-42}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: does-not-exist
`)
	env := append(cleanEnv(t), "PORTSIDE_KUBERNETES_JOBS_KUBECONFIG="+kubeconfig)
	r := run(t, env, portsideBin, "serve", "--addr", "127.0.0.1:0", "--database", filepath.Join(dir, "p.db"), "--dev-login", "false")
	if r.code == 0 || !strings.Contains(r.stderr, "kubernetes-jobs-kubeconfig") || !strings.Contains(r.stderr, "does-not-exist") {
		t.Errorf("serve with a kubeconfig whose context does not exist: want a failed start naming kubernetes-jobs-kubeconfig\n%s", r)
	}
	if strings.Contains(r.stderr, "kube-secret-token-42") {
		t.Errorf("the kubeconfig's token is in the output\n%s", r)
	}
}
