package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/sha256x2"
	"github.com/falcocw/falcocw/internal/samples"
)

// rate measures how many bytes a second f gets through, f handling n
// bytes a call, over about 200 ms.
func rate(n int, f func()) float64 {
	f() // warm up
	start := time.Now()
	calls := 0
	for time.Since(start) < 200*time.Millisecond {
		for i := 0; i < 16; i++ {
			f()
		}
		calls += 16
	}
	return float64(n*calls) / time.Since(start).Seconds()
}

// sendRate measures how many bytes a second the kernel takes from a
// sender writing to a TCP connection on loopback in 16 KiB writes (the
// size of a TLS record, each written on its own by Go's crypto/tls as by
// OpenSSL), counting the sending thread's CPU only, user and system: on
// loopback the receiving side's TCP processing runs in the sender's
// system call, as it does for Fluent Bit's outputs writing to the bench's
// endpoint, while the reader's copy out is the endpoint's own cost.
func sendRate() (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 16<<10)
	threadCPU := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	write := func(n int) error {
		for i := 0; i < n; i++ {
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(1024); err != nil { // warm up: 16 MB
		return 0, err
	}
	const writes = 16384 // 256 MB
	before := threadCPU()
	if err := write(writes); err != nil {
		return 0, err
	}
	cpu := threadCPU() - before
	if cpu <= 0 {
		return 0, fmt.Errorf("no CPU time measured for the writes")
	}
	return float64(writes*len(buf)) / cpu.Seconds(), nil
}

// printFloor estimates the least CPU one alert can cost on its way to
// CloudWatch Logs on this machine, from the bytes that must be handled
// and this machine's measured rates: Falco's line read once, the event
// written and JSON-escaped once into the request body, that body hashed
// once (SigV4 signs the SHA-256 of the payload; at the rate of two bodies
// hashed at once, as falcocw's flush does) and encrypted once (TLS,
// AES-GCM), copied once more on its way to the socket, and written to the
// socket (the kernel's part, which the C output pays as well).
func printFloor() {
	lines := samples.Lines("alerts.jsonl")
	var lineBytes, eventBytes, bodyBytes int
	var events [][]byte
	for _, l := range lines {
		a, ok := falco.RecogniseLine("log", l, "log", time.Now())
		if !ok {
			continue
		}
		ev := a.AppendJSON(nil)
		events = append(events, ev)
		lineBytes += len(l)
		eventBytes += len(ev)
		bodyBytes += len(jsonstr.AppendBytes(nil, ev)) + len(`{"timestamp":1795338994131,"message":},`)
	}
	n := len(events)
	line, event, body := float64(lineBytes)/float64(n), float64(eventBytes)/float64(n), float64(bodyBytes)/float64(n)

	buf := make([]byte, 1<<20)
	dst := make([]byte, 0, 2<<20)
	sha := rate(len(buf), func() { sha256.Sum256(buf) })
	buf2 := make([]byte, 1<<20)
	sha2 := rate(2*len(buf), func() { sha256x2.Sum2(buf, buf2) }) // falcocw hashes a flush's bodies two at a time
	block, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	aesRate := rate(len(buf), func() { dst = gcm.Seal(dst[:0], nonce, buf, nil) })
	copyRate := rate(len(buf), func() { dst = append(dst[:0], buf...) })
	var all []byte
	for _, e := range events {
		all = append(all, e...)
	}
	escape := rate(len(all), func() { dst = jsonstr.AppendBytes(dst[:0], all) })
	send, err := sendRate()
	if err != nil {
		fmt.Printf("\n(the socket's rate could not be measured: %v)\n", err)
	}

	us := func(bytes, perSecond float64) float64 { return bytes / perSecond * 1e6 }
	fmt.Printf("\nthe floor, from this machine's rates (one alert: Falco's line %.0f bytes, the event %.0f bytes, %.0f bytes of PutLogEvents body):\n", line, event, body)
	fmt.Printf("  SHA-256 %.0f MB/s (two bodies at once %.0f MB/s), AES-128-GCM %.0f MB/s, JSON escaping %.0f MB/s, copying %.0f MB/s, sending on loopback TCP %.0f MB/s (the sender's CPU)\n",
		sha/1e6, sha2/1e6, aesRate/1e6, escape/1e6, copyRate/1e6, send/1e6)
	rows := []struct {
		what string
		us   float64
	}{
		{"read Falco's line once (at the escaping rate)", us(line, escape)},
		{"write the event and escape it into the body", us(event, escape)},
		{"hash the body (SigV4 payload hash, two at once)", us(body, max(sha, sha2))},
		{"encrypt the body (TLS)", us(body, aesRate)},
		{"copy the body once more (to the socket)", us(body, copyRate)},
	}
	if send > 0 {
		rows = append(rows, struct {
			what string
			us   float64
		}{"write the body to the socket (the kernel's part)", us(body*16413/16384, send)}) // and the TLS records' 29 bytes each
	}
	total := 0.0
	for _, r := range rows {
		fmt.Printf("  %-48s %.2f µs\n", r.what, r.us)
		total += r.us
	}
	cBody := line * 1.1 // the line, escaped, in its event
	cFloor := us(cBody, sha) + us(cBody, aesRate) + us(cBody, copyRate) + us(line, escape)
	if send > 0 {
		cFloor += us(cBody, send)
	}
	fmt.Printf("  %-48s %.2f µs per alert (the C pass-through pays the hash, the encryption, the copy and the socket's part of a body of its own, %.2f µs, without the event)\n",
		"floor", total, cFloor)
}
