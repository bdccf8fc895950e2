//go:build !unix

package local

import "os/exec"

func setGroup(*exec.Cmd) {}

// killGroup kills the stage's own process; without process groups its children may live on.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
