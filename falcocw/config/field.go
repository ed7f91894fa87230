package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Field is a property and what its value fills in O: the instance's
// Config, or a destination kind's own options (RegisterKind). It is the
// one place a property is declared: its name, type, default, bounds and
// help (Property), and how its value is read (Set).
type Field[O any] struct {
	Property
	// Set reads v, the property's value or else its default, into o, or
	// says what is allowed (an *Error is returned as it is). It is not
	// called when the property is unset and has no default. Nil only for
	// the route.N family, which Parse reads itself.
	Set func(o *O, v string) error
	// Raw gives Set the value as written, "" when unset, and no default:
	// for a property whose meaning depends on its being set at all.
	Raw bool
}

// fill reads each field's value through get into o, and returns the
// first error, naming its property.
func fill[O any](o *O, fields []Field[O], get func(string) string) error {
	for _, f := range fields {
		if f.Set == nil {
			continue
		}
		v := strings.TrimSpace(get(f.Name))
		if v == "" && !f.Raw {
			v = f.Default
		}
		if v == "" && !f.Raw {
			continue
		}
		if err := f.Set(o, v); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return e
			}
			return &Error{f.Name, v, err.Error()}
		}
	}
	return nil
}

// String is a property read as it is written (trimmed).
func String[O any](name, def, help string, field func(*O) *string) Field[O] {
	return Field[O]{Property: Property{Name: name, Type: TypeString, Default: def, Help: help},
		Set: func(o *O, v string) error { *field(o) = v; return nil }}
}

// Bool is a property read as true or false (on/off, yes/no, 1/0).
func Bool[O any](name, def, help string, field func(*O) *bool) Field[O] {
	return Field[O]{Property: Property{Name: name, Type: TypeBool, Default: def, Help: help}, Set: func(o *O, v string) error {
		b, err := ParseBool(v)
		*field(o) = b
		return err
	}}
}

// AccountID is an AWS account ID property: 12 digits.
func AccountID[O any](name, help string, field func(*O) *string) Field[O] {
	return Read(name, TypeString, "", help, func(o *O, v string) error {
		if len(v) != 12 || strings.Trim(v, "0123456789") != "" {
			return errors.New("want a 12-digit AWS account ID")
		}
		*field(o) = v
		return nil
	})
}

// ParseBool reads true or false as Fluent Bit writes them.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "on", "yes", "1":
		return true, nil
	case "false", "off", "no", "0":
		return false, nil
	}
	return false, errors.New("want true or false (on/off, yes/no)")
}

// Int is a whole number from min to max.
func Int[O any](name, def, min, max, help string, field func(*O) *int) Field[O] {
	lo, _ := strconv.Atoi(min)
	hi, _ := strconv.Atoi(max)
	return Field[O]{Property: Property{Name: name, Type: TypeInt, Default: def, Min: min, Max: max, Help: help}, Set: func(o *O, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		*field(o) = n
		return nil
	}}
}

// Duration is a Go duration or, Fluent Bit style, a plain number of
// seconds, from min to max.
func Duration[O any](name, def, min, max, help string, field func(*O) *time.Duration) Field[O] {
	lo, _ := parseDuration(min)
	hi, _ := parseDuration(max)
	return Field[O]{Property: Property{Name: name, Type: TypeDuration, Default: def, Min: min, Max: max, Help: help}, Set: func(o *O, v string) error {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			return errors.New("want a duration such as 20s or 1m30s")
		case d < lo || d > hi:
			return fmt.Errorf("want a duration from %s to %s", lo, hi)
		}
		*field(o) = d
		return nil
	}}
}

// Size is a byte size such as 256M, 1G, 512K or a plain number, from min
// to max.
func Size[O any](name, def, min, max, help string, field func(*O) *int64) Field[O] {
	lo, _ := parseSize(min)
	hi, _ := parseSize(max)
	return Field[O]{Property: Property{Name: name, Type: TypeSize, Default: def, Min: min, Max: max, Help: help}, Set: func(o *O, v string) error {
		v = strings.ToUpper(v)
		n, err := parseSize(v)
		if err != nil || n < lo || n > hi {
			return &Error{name, v, fmt.Sprintf("want a size from %s to %s, such as 256M or 1G", min, max)}
		}
		*field(o) = n
		return nil
	}}
}

// URL is an endpoint URL, without its trailing slash.
func URL[O any](name, help string, field func(*O) *string) Field[O] {
	return Field[O]{Property: Property{Name: name, Type: TypeURL, Help: help}, Set: func(o *O, v string) error {
		u, err := parseURL(v)
		*field(o) = u
		return err
	}}
}

func parseURL(v string) (string, error) {
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		return "", errors.New("want a URL such as https://logs.eu-west-1.amazonaws.com")
	}
	return strings.TrimRight(v, "/"), nil
}

// Template is a name with {variables}, read by parse.
func Template[O any](name, def, help string, set func(o *O, v string) error) Field[O] {
	return Field[O]{Property: Property{Name: name, Type: TypeTemplate, Default: def, Help: help}, Set: set}
}

// Read is any other property: typ says how it is written, set reads it.
func Read[O any](name string, typ Type, def, help string, set func(o *O, v string) error) Field[O] {
	return Field[O]{Property: Property{Name: name, Type: typ, Default: def, Help: help}, Set: set}
}

// Raw is a property whose Set sees it as written, "" when unset: def is
// the default Set applies, for the documentation.
func Raw[O any](name string, typ Type, def, help string, set func(o *O, v string) error) Field[O] {
	return Field[O]{Property: Property{Name: name, Type: typ, Default: def, Help: help}, Set: set, Raw: true}
}

func parseSize(v string) (int64, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	num := strings.TrimSuffix(strings.TrimSuffix(v, "B"), "I")
	switch {
	case strings.HasSuffix(num, "K"):
		mult, num = 1<<10, strings.TrimSuffix(num, "K")
	case strings.HasSuffix(num, "M"):
		mult, num = 1<<20, strings.TrimSuffix(num, "M")
	case strings.HasSuffix(num, "G"):
		mult, num = 1<<30, strings.TrimSuffix(num, "G")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size")
	}
	return n * mult, nil
}

// parseDuration reads a Go duration or, Fluent Bit style, a plain number
// of seconds.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil {
		return d, nil
	}
	n, nerr := strconv.ParseFloat(v, 64)
	if nerr != nil {
		return 0, err
	}
	return time.Duration(n * float64(time.Second)), nil
}
