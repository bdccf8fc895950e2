package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A field's first values by their sums over kinds are settled by the rows read of each kind (in
// count order) only where no unread value could rank among them: its sum is at most the sum of
// each unfinished kind's last count read, and at that sum it has a name after each of their last
// names read.
func TestTheFirstValuesOfSumsAreSettledOnlyWhereNoUnreadValueCanRankAmongThem(t *testing.T) {
	row := func(kind, value string, n int64) summedRow { return summedRow{Kind: kind, Value: value, Entities: n} }
	field := func(sums map[string]int64, rows ...summedRow) *summedField {
		sf := &summedField{heads: map[string][]summedRow{}, sums: sums}
		for _, r := range rows {
			sf.heads[r.Kind] = append(sf.heads[r.Kind], r)
		}
		return sf
	}
	kinds := []string{"API", "Component"}
	for _, c := range []struct {
		name    string
		field   *summedField
		read    int
		limit   int
		want    []FacetValue
		settled bool
	}{{
		name: "every value of every kind read",
		// Fewer rows than read: each kind's every value is among them.
		field: field(map[string]int64{"a": 3, "b": 5, "c": 0}, row("API", "a", 2), row("API", "b", 1), row("Component", "b", 4), row("Component", "a", 1)),
		read:  3, limit: 5, settled: true,
		want: []FacetValue{{Value: "b", Count: 5}, {Value: "a", Count: 3}},
	}, {
		name: "the last value kept sums to more than any unread one can",
		// An unread value has at most 2 (API) + 3 (Component) = 5; b's 7 is settled, a's 6 too.
		field: field(map[string]int64{"a": 6, "b": 7, "c": 5}, row("API", "b", 4), row("API", "c", 2), row("Component", "a", 5), row("Component", "c", 3)),
		read:  2, limit: 2, settled: true,
		want: []FacetValue{{Value: "b", Count: 7}, {Value: "a", Count: 6}},
	}, {
		name: "an unread value may sum to as much, with a name before the last kept",
		// z sums to 5 = 2 + 3, the most an unread value can: "c", unread in both kinds (after
		// their last names read, b), could have 2 and 3, and rank before z.
		field: field(map[string]int64{"a": 6, "b": 5, "z": 5}, row("API", "z", 3), row("API", "b", 2), row("Component", "a", 6), row("Component", "b", 3)),
		read:  2, limit: 3, settled: false,
	}, {
		name: "an unread value may sum to as much, only with a name after the last kept",
		// q sums to 5 = 2 + 3: an unread value at 2 and 3 has a name after q in both kinds.
		field: field(map[string]int64{"a": 6, "q": 5, "p": 3}, row("API", "p", 3), row("API", "q", 2), row("Component", "a", 6), row("Component", "q", 3)),
		read:  2, limit: 2, settled: true,
		want: []FacetValue{{Value: "a", Count: 6}, {Value: "q", Count: 5}},
	}, {
		name: "an unread value may sum to as much, only with a name after the last read of every kind",
		// m sums to 5 = 2 + 3, as much as an unread value can; such a value sorts after b in API and
		// after y in Component, so after m too.
		field: field(map[string]int64{"a": 6, "m": 5, "b": 2, "y": 3}, row("API", "m", 3), row("API", "b", 2), row("Component", "a", 6), row("Component", "y", 3)),
		read:  2, limit: 2, settled: true,
		want: []FacetValue{{Value: "a", Count: 6}, {Value: "m", Count: 5}},
	}, {
		name: "an unread value may sum to more",
		// Each value read is in one kind only: an unread one could have 5 in both.
		field: field(map[string]int64{"a": 5, "b": 5, "c": 5, "d": 5}, row("API", "a", 5), row("API", "b", 5), row("Component", "c", 5), row("Component", "d", 5)),
		read:  2, limit: 1, settled: false,
	}, {
		name:  "fewer values than asked while a kind has more",
		field: field(map[string]int64{"a": 4}, row("API", "a", 3), row("Component", "a", 1)),
		read:  1, limit: 2, settled: false,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, settled := c.field.first(kinds, c.read, c.limit)
			if settled != c.settled {
				t.Fatalf("settled %v, want %v (values %v)", settled, c.settled, got)
			}
			if !settled {
				return
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("first values (-want +got):\n%s", d)
			}
		})
	}
}
