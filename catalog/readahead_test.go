package catalog

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// boundedFile is a file of size bytes read through a bound of limit bytes, as the disk reader
// serves it: whole reads until the end, the bound's error with the read that crosses it.
type boundedFile struct {
	r     io.Reader
	left  int
	limit int
}

var errTooLarge = errors.New("too large")

func (b *boundedFile) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if len(p) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= n
	if b.left < 0 {
		return n + b.left, errTooLarge
	}
	return n, err
}

// A reader that reads ahead answers every read as the file does: the same bytes, the same
// errors at the same reads, whatever sizes are asked for.
func TestReadAheadAnswersEachReadAsTheFileDoes(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, readAheadSize - 1, readAheadSize, readAheadSize + 1, 3*readAheadSize + 17} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, limit := range []int{size + 1, size, size - 1, size / 2, 0} {
			if limit < 0 {
				continue
			}
			open := func() io.Reader { return &boundedFile{r: bytes.NewReader(data), left: limit, limit: limit} }
			direct, ahead := open(), &readAhead{r: open()}
			for i := 0; ; i++ {
				want := 1 + (i*7919)%700 // varied sizes, as the decoder's free buffer space varies
				p, q := make([]byte, want), make([]byte, want)
				n, err := direct.Read(p)
				m, err2 := ahead.Read(q)
				if n != m || !errors.Is(err2, err) || !errors.Is(err, err2) || !bytes.Equal(p[:n], q[:m]) {
					t.Fatalf("size %d limit %d read %d of %d bytes: file gave %d, %v; readAhead %d, %v", size, limit, i, want, n, err, m, err2)
				}
				if err != nil {
					break
				}
				if i > 10*size+10 {
					t.Fatalf("size %d: no end", size)
				}
			}
		}
	}
}

func TestEntityHashIsTheDigestOfSourceNULBody(t *testing.T) {
	for _, c := range []struct{ source, body string }{{"", ""}, {"a.yaml", `{"kind":"Component"}`}, {"x\x00y", "\x00"}} {
		if got, want := entityHash(c.source, []byte(c.body)), digest([]byte(c.source+"\x00"+c.body)); got != want {
			t.Errorf("entityHash(%q, %q) = %s, want %s", c.source, c.body, got, want)
		}
	}
}
