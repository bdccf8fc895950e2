package sizedlru

import (
	"fmt"
	"testing"
)

// A cache is bounded by the bytes its entries weigh: many
// entries, or heavy ones, never hold more than the budget, and the most recently used stay.
func TestSizedLRUKeepsWithinItsBudget(t *testing.T) {
	tests := []struct {
		name               string
		maxBytes, maxItems int
		weights            []int
		wantKept           []int // indexes of weights still cached, oldest first
	}{
		{"under budget keeps all", 100, 0, []int{10, 20, 25}, []int{0, 1, 2}},
		{"over budget drops the least recently used", 100, 0, []int{20, 20, 20, 20, 20, 20}, []int{1, 2, 3, 4, 5}},
		{"an entry over a quarter of the budget is not kept", 100, 0, []int{10, 26, 10}, []int{0, 2}},
		{"the count bound holds too", 1000, 2, []int{1, 1, 1}, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[string, int](tt.maxBytes, tt.maxItems)
			for i, w := range tt.weights {
				c.Add(fmt.Sprint(i), i, w)
			}
			var kept []int
			total := 0
			for i, w := range tt.weights {
				if v, ok := c.Get(fmt.Sprint(i)); ok {
					if v != i {
						t.Errorf("entry %d holds %d", i, v)
					}
					kept = append(kept, i)
					total += w
				}
			}
			if fmt.Sprint(kept) != fmt.Sprint(tt.wantKept) {
				t.Errorf("kept %v, want %v", kept, tt.wantKept)
			}
			if c.Bytes() != total || c.Bytes() > tt.maxBytes {
				t.Errorf("Bytes() = %d, entries weigh %d, budget %d", c.Bytes(), total, tt.maxBytes)
			}
		})
	}

	// Replacing an entry counts its new weight only; a use keeps it from being dropped.
	c := New[string, int](100, 0)
	c.Add("a", 1, 50)
	c.Add("a", 2, 10)
	c.Add("b", 3, 20)
	c.Get("a")
	c.Add("c", 4, 25)
	c.Add("d", 5, 25)
	c.Add("e", 6, 25) // 10+20+25+25+25 = 105: b, the least recently used, goes
	if _, ok := c.Get("b"); ok || c.Bytes() != 85 || c.Len() != 4 {
		t.Errorf("after replacing and using a: b kept %v, %d bytes in %d entries; want b dropped, 85 bytes in 4", ok, c.Bytes(), c.Len())
	}
}
