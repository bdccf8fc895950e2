package seal_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/portside-dev/portside/seal"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

func TestASealedValueOpensOnlyForItsContext(t *testing.T) {
	r, err := seal.NewKeyring(key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed := r.Seal("refresh-token-value", "session abc")
	if strings.Contains(sealed, "refresh-token-value") {
		t.Fatalf("the sealed value shows the plaintext: %s", sealed)
	}
	if again := r.Seal("refresh-token-value", "session abc"); again == sealed {
		t.Errorf("sealing twice gave the same value: the nonce is not random")
	}
	got, err := r.Open(sealed, "session abc")
	if err != nil || got != "refresh-token-value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := r.Open(sealed, "session xyz"); !errors.Is(err, seal.ErrNotOpened) {
		t.Errorf("opened for another context: %v", err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	if _, err := r.Open(string(tampered), "session abc"); !errors.Is(err, seal.ErrNotOpened) {
		t.Errorf("a tampered value opened: %v", err)
	}
	for _, junk := range []string{"", "v1.", "v1.!!!", "v2." + sealed[3:], "plain"} {
		if _, err := r.Open(junk, "session abc"); !errors.Is(err, seal.ErrNotOpened) {
			t.Errorf("Open(%q) = %v, want ErrNotOpened", junk, err)
		}
	}
}

func TestKeysRotateNewestFirst(t *testing.T) {
	old, _ := seal.NewKeyring(key(1))
	sealedOld := old.Seal("x", "c")
	rotated, _ := seal.NewKeyring(key(2), key(1))
	if got, err := rotated.Open(sealedOld, "c"); err != nil || got != "x" {
		t.Fatalf("the old key no longer opens its values: %q %v", got, err)
	}
	sealedNew := rotated.Seal("y", "c")
	if _, err := old.Open(sealedNew, "c"); err == nil {
		t.Errorf("a value sealed after rotation opened with the old key alone: not sealed with the new key")
	}
	onlyNew, _ := seal.NewKeyring(key(2))
	if _, err := onlyNew.Open(sealedOld, "c"); !errors.Is(err, seal.ErrNotOpened) {
		t.Errorf("a dropped key's value still opens: %v", err)
	}
}

func TestRandomKeyringsDoNotOpenEachOthersValues(t *testing.T) {
	a, b := seal.NewRandomKeyring(), seal.NewRandomKeyring()
	if _, err := b.Open(a.Seal("x", "c"), "c"); !errors.Is(err, seal.ErrNotOpened) {
		t.Errorf("two random keyrings share a key")
	}
}
