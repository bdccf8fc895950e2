// Package seal encrypts the few secrets Portside must keep in its database (refresh tokens), so
// that a copy of the database or a backup does not hand them out.
//
// Values are sealed with AES-256-GCM under the first key of a Keyring and opened with any of its
// keys, so a key can be rotated by putting the new one first and dropping the old one once every
// value sealed with it has been replaced or has expired.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// version prefixes every sealed value, so the format can change without guessing.
const version = "v1."

// ErrNotOpened means no key of the ring opens the value, or it was altered or sealed for another
// context (the associated data differs).
var ErrNotOpened = errors.New("seal: the value cannot be opened with these keys")

// Keyring seals with its first key and opens with any.
type Keyring struct {
	aeads []cipher.AEAD
}

// NewKeyring builds a keyring from raw keys, newest first.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key given")
	}
	r := &Keyring{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes long, want %d", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.aeads = append(r.aeads, aead)
	}
	return r, nil
}

// NewRandomKeyring returns a keyring with one fresh random key: values it seals cannot be opened
// after the process ends. For development setups, whose secrets are as short-lived.
func NewRandomKeyring() *Keyring {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails on supported platforms
	r, _ := NewKeyring(k)
	return r
}

// Seal encrypts plaintext, bound to context: the same context must be given to Open, so a value
// copied to another row does not open there.
func (r *Keyring) Seal(plaintext, context string) string {
	aead := r.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return version + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value sealed by a key of the ring for the same context.
func (r *Keyring) Open(sealed, context string) (string, error) {
	body, ok := strings.CutPrefix(sealed, version)
	if !ok {
		return "", ErrNotOpened
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return "", ErrNotOpened
	}
	for _, aead := range r.aeads {
		if len(raw) < aead.NonceSize() {
			return "", ErrNotOpened
		}
		if out, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(context)); err == nil {
			return string(out), nil
		}
	}
	return "", ErrNotOpened
}
