package backstage

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendDocument appends e's JSON document (apiVersion, kind, metadata, spec) with the bytes
// json.Marshal(document{...}) writes: map keys sorted, strings escaped as encoding/json escapes
// them (HTML characters, U+2028 and U+2029, invalid UTF-8 as U+FFFD), numbers in its format.
// encoding/json reaches every value of a document by reflection, which was most of the cost of
// encoding the entities of an import. ok is false when the document holds a value this encoder
// does not write (one encoding/json would fail on, such as NaN): the caller then uses
// encoding/json, for its error.
func appendDocument(b []byte, apiVersion, kind string, metadata, spec map[string]any) (_ []byte, ok bool) {
	b = append(b, `{"apiVersion":`...)
	b = appendJSONString(b, apiVersion)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, kind)
	b = append(b, `,"metadata":`...)
	if b, ok = appendJSONValue(b, metadata); !ok {
		return b, false
	}
	if len(spec) > 0 { // omitempty
		b = append(b, `,"spec":`...)
		if b, ok = appendJSONValue(b, spec); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendJSONValue appends v as encoding/json encodes it.
func appendJSONValue(b []byte, v any) (_ []byte, ok bool) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, t), true
	case float64:
		return appendJSONFloat(b, t)
	case string:
		return appendJSONString(b, t), true
	case []any:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, it := range t {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendJSONValue(b, it); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case []string:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), true
	case map[string]any:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '{')
		for i, k := range sortedKeys(t) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			if b, ok = appendJSONValue(b, t[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case map[string]string:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '{')
		for i, k := range sortedKeys(t) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			b = appendJSONString(b, t[k])
		}
		return append(b, '}'), true
	case []Link:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, l := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"url":`...)
			b = appendJSONString(b, l.URL)
			for _, f := range [...]struct{ name, value string }{{`,"title":`, l.Title}, {`,"icon":`, l.Icon}, {`,"type":`, l.Type}} {
				if f.value != "" { // omitempty
					b = appendJSONString(append(b, f.name...), f.value)
				}
			}
			b = append(b, '}')
		}
		return append(b, ']'), true
	default:
		// Not a type a parsed document holds; encoding/json writes it as it would in place.
		out, err := json.Marshal(v)
		if err != nil {
			return b, false
		}
		return append(b, out...), true
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONFloat is encoding/json's float64 encoding: ES6 number formatting.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping, as json.Marshal does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
