package backstage

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// marshalReflect is what EncodeJSON replaced: the oracle it must agree with byte for byte.
func marshalReflect(e *Entity) ([]byte, error) {
	return json.Marshal(document{APIVersion: e.APIVersion, Kind: e.Kind, Metadata: e.Metadata.asMap(), Spec: e.Spec})
}

func TestEncodeJSONWritesWhatEncodingJSONWrites(t *testing.T) {
	odd := []string{"", "plain", `q"uo\te`, "<b>&amp;</b>", "line\nfeed\ttab\r\b\f\x00\x1f\x7f", "\u2028\u2029", "Zürich ✓ 😀",
		"bad \xff utf8 \xc3", "\xed\xa0\x80"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789012345678901, 5e-324, math.MaxFloat64, 0.1, 1.0000001e-9}
	var anys []any
	for _, f := range floats {
		anys = append(anys, f)
	}
	for _, s := range odd {
		anys = append(anys, s)
	}
	anys = append(anys, nil, true, false, []any{}, []any(nil), map[string]any{}, map[string]any(nil), []any{1.5, "x", nil, map[string]any{"b": 1.0, "a": []any{}}},
		42, int64(-7), []string{"a"}, map[string]int{"z": 1, "a": 2}, struct{ X int }{1})
	spec := map[string]any{}
	extra := map[string]any{}
	for i, v := range anys {
		for _, k := range odd {
			spec[k+string(rune('a'+i%26))] = v
		}
		extra["x"+string(rune('a'+i%26))+odd[i%len(odd)]] = v
	}
	entities := []*Entity{
		{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Metadata: Metadata{Name: "a", Namespace: "default"}},
		{APIVersion: "v<1>", Kind: "K&", Spec: spec, Metadata: Metadata{Name: "n\xff", Namespace: "ns", Title: "T<", Description: "d\u2028",
			Labels: map[string]string{"b": "1", "a\xff": "<", "A": ""}, Annotations: map[string]string{"x/y": "multi\nline"},
			Tags: []string{"go", "c++"}, Links: []Link{{URL: "https://x.example/?a=1&b=<2>"}, {URL: "u", Title: "t", Icon: "i", Type: "y"}},
			Extra: extra}},
		{Kind: "NaN", Spec: map[string]any{"n": math.NaN()}},
		{Kind: "Inf", Metadata: Metadata{Extra: map[string]any{"i": []any{math.Inf(-1)}}}},
		{Kind: "empty spec", Spec: map[string]any{}},
	}
	for _, e := range entities {
		got, gotErr := e.EncodeJSON()
		want, wantErr := marshalReflect(e)
		if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%s: EncodeJSON =\n%s, %v\nencoding/json =\n%s, %v", e.Kind, got, gotErr, want, wantErr)
		}
		viaMarshal, err := json.Marshal(e)
		if (err == nil) != (wantErr == nil) || !bytes.Equal(viaMarshal, want) {
			t.Errorf("%s: json.Marshal(e) =\n%s, %v\nwant\n%s, %v", e.Kind, viaMarshal, err, want, wantErr)
		}
	}
}
