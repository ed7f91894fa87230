// Package batch cuts a list into consecutive batches under a count and a
// byte limit, the shape of every AWS batch API falcocw calls; each service
// package states its own limits and what counts toward them.
package batch

// Cut returns items in order, cut into batches of at most maxCount items
// whose sizes add up to at most maxBytes. split, when not nil, may also
// end a batch before next (CloudWatch's 24-hour span). An item larger than
// maxBytes alone gets a batch of its own; callers cut such items first.
func Cut[T any](items []T, maxCount, maxBytes int, size func(T) int, split func(first, next T) bool) [][]T {
	var out [][]T
	start, total := 0, 0
	for i, it := range items {
		n := size(it)
		if i > start && (i-start >= maxCount || total+n > maxBytes || split != nil && split(items[start], it)) {
			out = append(out, items[start:i])
			start, total = i, 0
		}
		total += n
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}
