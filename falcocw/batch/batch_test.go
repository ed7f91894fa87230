package batch_test

import (
	"reflect"
	"testing"

	"github.com/falcocw/falcocw/falcocw/batch"
)

func TestCut(t *testing.T) {
	size := func(n int) int { return n }
	for _, tc := range []struct {
		name           string
		items          []int
		maxCount, maxB int
		split          func(a, b int) bool
		want           [][]int
	}{
		{"empty", nil, 3, 10, nil, nil},
		{"by count", []int{1, 1, 1, 1, 1}, 2, 100, nil, [][]int{{1, 1}, {1, 1}, {1}}},
		{"by bytes", []int{4, 4, 4}, 10, 8, nil, [][]int{{4, 4}, {4}}},
		{"oversized alone", []int{1, 20, 1}, 10, 8, nil, [][]int{{1}, {20}, {1}}},
		{"split", []int{1, 2, 30, 31}, 10, 100, func(a, b int) bool { return b-a > 10 }, [][]int{{1, 2}, {30, 31}}},
	} {
		if got := batch.Cut(tc.items, tc.maxCount, tc.maxB, size, tc.split); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
