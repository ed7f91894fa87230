package falco

import "time"

// isTimeFormat reports whether a time that parsed is written exactly as
// AppendTime writes it (TimeFormat, in UTC: how Falco prints "time"), so
// that the event can copy it. It compares eight bytes at a time against
// the layout: each byte XOR the layout's is 0 at a separator and 0 to 9 at
// a digit ('0' in the layout).
func isTimeFormat(s string) bool {
	const (
		layout = "0000-00-00T00:00:00.000000000Z"
		highs  = 0x8080808080808080
	)
	if len(s) != len(layout) {
		return false
	}
	bad := uint64(0)
	for w, i := range [...]int{0, 8, 16, 22} {
		d := le64(s, i) ^ le64(layout, i)
		bad |= (d | (d + 0x7676767676767676)) & highs // a byte above 9
		bad |= d & sepMask[w]                         // a separator other than the layout's
	}
	return bad == 0
}

// sepMask has 0xff at the layout's separators, for each word isTimeFormat
// reads (from bytes 0, 8, 16 and 22).
var sepMask = func() (m [4]uint64) {
	const layout = "0000-00-00T00:00:00.000000000Z"
	for w, at := range [...]int{0, 8, 16, 22} {
		for k := 0; k < 8; k++ {
			if layout[at+k] != '0' {
				m[w] |= 0xff << (8 * k)
			}
		}
	}
	return m
}()

// le64 reads eight bytes of s from i, little-endian.
func le64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// parseTimeFormat reads a time in isTimeFormat's form as time.Parse reads
// it, without its general layout machinery; ok is false, as time.Parse
// fails, for a date or clock out of range (February 30, hour 24, second
// 60).
func parseTimeFormat(s string) (t time.Time, ok bool) {
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, second := num(11, 2), num(14, 2), num(17, 2)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	secs := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+second)
	return time.Unix(secs, int64(num(20, 9))).UTC(), true
}

// daysIn is the number of days of a month (1 to 12) of a year.
func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2 // 31 in January, March, May, July, August, October, December
}

// daysSinceEpoch is the number of days from 1970-01-01 to a date of the
// proleptic Gregorian calendar (years 0 to 9999 here), after Howard
// Hinnant's days_from_civil.
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := (year+400)/400 - 1 // floor(year / 400) for year >= -1
	yoe := year - era*400
	mp := (month + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
