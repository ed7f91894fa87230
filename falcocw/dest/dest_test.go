package dest_test

import (
	"reflect"
	"testing"

	"github.com/falcocw/falcocw/falcocw/dest"
)

func TestRemaining(t *testing.T) {
	for _, tc := range []struct {
		ids, accepted []int
		rejected      []dest.Rejection
		want          []int
	}{
		{[]int{1, 2, 3}, nil, nil, []int{1, 2, 3}},
		{[]int{1, 2, 3}, []int{2}, nil, []int{1, 3}},
		{[]int{1, 2, 3}, []int{1}, []dest.Rejection{{ID: 3}}, []int{2}},
		{[]int{1, 2}, []int{1, 2}, nil, nil},
	} {
		if got := dest.Remaining(tc.ids, tc.accepted, tc.rejected); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Remaining(%v, %v, %v) = %v, want %v", tc.ids, tc.accepted, tc.rejected, got, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	if got := (dest.Item{Payload: []byte(`{"log":"x"}`)}).Describe(); got != `non-Falco record ({"log":"x"})` {
		t.Errorf("non-Falco: %q", got)
	}
	if got := (dest.Item{Payload: []byte(`{"_aws":{}}`), Metric: true}).Describe(); got != `metric record ({"_aws":{}})` {
		t.Errorf("metric: %q", got)
	}
}
