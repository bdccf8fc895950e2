package proc

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// An identity reads back as written; a process is gone only when it is on this host, is not
// this one, and no longer runs (or its PID now belongs to a process that started later).
func TestAProcessIsGoneOnlyWhenThisHostSeesItEnded(t *testing.T) {
	if got, ok := Parse(Self().String()); !ok || got != Self() {
		t.Errorf("Parse(%q) = %+v, %v", Self().String(), got, ok)
	}
	for _, bad := range []string{"", "h/1", "h/x/1", "h/0/1", "h/1/2/3"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) read an identity", bad)
		}
	}
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		id   Identity
		gone bool
	}{
		{"this process", Self(), false},
		{"its parent", Of(os.Getppid()), false},
		{"another host's", Identity{Host: "elsewhere", PID: dead.Process.Pid, Start: "1"}, false},
		{"a process that ended", Identity{Host: Self().Host, PID: dead.Process.Pid, Start: "1"}, runtime.GOOS == "linux"},
		{"a PID a later process has", Identity{Host: Self().Host, PID: os.Getppid(), Start: "1"}, runtime.GOOS == "linux"},
		{"an earlier process with this one's PID", Identity{Host: Self().Host, PID: Self().PID, Start: "1"}, Self().Start != "" && Self().Start != "1"},
	} {
		if got := c.id.Gone(); got != c.gone {
			t.Errorf("%s (%s): Gone() = %v, want %v", c.name, c.id, got, c.gone)
		}
	}
}
