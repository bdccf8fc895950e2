package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/portside-dev/portside/config"
)

// The README's configuration table is the settings table: a setting added, renamed or re-described
// without updating the README fails here.
func TestReadmeListsEverySettingAsTheTableSays(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), config.MarkdownTable()) {
		t.Errorf("README.md does not contain the current configuration table; paste this in:\n%s", config.MarkdownTable())
	}
}
