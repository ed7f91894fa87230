package jsonstr_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

func TestAppend(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "nl\n\r\t", "\x00\x1f", "é😀", "bad\xffbyte\xc3", "\u2028\u2029", "</script>"} {
		out := jsonstr.Append(nil, s)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("%q → invalid %q", s, out)
		}
		var back string
		_ = json.Unmarshal(out, &back)
		if utf8.ValidString(s) && back != s {
			t.Errorf("%q → %q → %q", s, out, back)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("a\"b\\c\x00\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		out := jsonstr.Append(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil || !utf8.Valid(out) {
			t.Fatalf("%q → %q: %v", s, out, err)
		}
		if back != string([]rune(s)) && utf8.ValidString(s) {
			t.Fatalf("round trip %q → %q", s, back)
		}
		sameTwice(t, s)
	})
}

// TestAppendTwice: AppendContent is Append without its quotes, and
// AppendTwice is Append's output escaped again, the form of a string
// value of JSON that itself travels as a JSON string.
func TestAppendTwice(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "nl\n\r\t", "\x00\x1f", "é😀", "bad\xffbyte\xc3", "\u2028\u2029", "</script>",
		strings.Repeat("long é text with \"quotes\" ", 40)} {
		sameTwice(t, s)
	}
}

func sameTwice(t *testing.T, s string) {
	t.Helper()
	once := jsonstr.Append(nil, s)
	if got := jsonstr.AppendContent([]byte("x"), s); string(got) != "x"+string(once[1:len(once)-1]) {
		t.Fatalf("AppendContent(%q) = %q, want Append's %q without quotes", s, got, once)
	}
	want := jsonstr.AppendContent([]byte("x"), string(once))
	got, plain := jsonstr.AppendTwice([]byte("x"), s)
	if string(got) != string(want) || plain != len(once) {
		t.Fatalf("AppendTwice(%q) = %q, %d; want %q, %d", s, got, plain, want, len(once))
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes: not split
		{"a\xffb", 10, "a\uFFFDb"},
		{"", 0, ""},
	} {
		if got := jsonstr.Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// TestAppendBase64 holds the fast encoder to encoding/base64's output, for
// every length of the first kilobytes (the vector loops' blocks, their
// tails and the padding) and after existing bytes.
func TestAppendBase64(t *testing.T) {
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(i*131 + i>>8)
	}
	for n := 0; n <= len(data); n++ {
		want := "prefix" + base64.StdEncoding.EncodeToString(data[:n])
		got := jsonstr.AppendBase64([]byte("prefix"), data[:n])
		if string(got) != want {
			t.Fatalf("%d bytes: got %q, want %q", n, got, want)
		}
		if l := jsonstr.Base64Len(n); l != base64.StdEncoding.EncodedLen(n) {
			t.Fatalf("Base64Len(%d) = %d, want %d", n, l, base64.StdEncoding.EncodedLen(n))
		}
	}
}
