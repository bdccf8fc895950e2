//go:build unix

package local

import (
	"os/exec"
	"syscall"
)

// setGroup starts the command in a process group of its own, so that killing the group reaches
// every process the stage started (a shell's children, a build's workers).
func setGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
