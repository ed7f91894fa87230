package realhost

import (
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Gate is a TCP port in front of an endpoint that can be shut: while
// shut, connections to it are refused, as to an endpoint that is down
// (a VPC endpoint gone, a proxy stopped); open, it forwards them.
type Gate struct {
	t      testing.TB
	addr   string // the gate's own 127.0.0.1:port
	target string // the endpoint's host:port
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

// NewGate opens a gate in front of the endpoint at rawURL; URL is its
// own address, to give to the plugin instead.
func NewGate(t testing.TB, rawURL string) *Gate {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{t: t, target: u.Host, conns: map[net.Conn]bool{}}
	// A port below Linux's ephemeral range (32768 and up), so that no
	// outgoing connection takes it while the gate is shut.
	for try := 0; g.ln == nil; try++ {
		g.addr = "127.0.0.1:" + strconv.Itoa(20000+rand.IntN(12000))
		if ln, err := net.Listen("tcp", g.addr); err == nil {
			g.ln = ln
			go g.serve(ln)
		} else if try > 100 {
			t.Fatalf("gate: %v", err)
		}
	}
	t.Cleanup(g.Shut)
	return g
}

// URL is the gate's address as an endpoint URL.
func (g *Gate) URL() string { return "http://" + g.addr }

// Open listens again and forwards.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", g.addr)
	for end := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond) // a socket of the shut gate may linger
		ln, err = net.Listen("tcp", g.addr)
	}
	if err != nil {
		g.t.Errorf("gate: %v", err)
		return
	}
	g.ln = ln
	go g.serve(ln)
}

// Shut stops listening and cuts the connections open: new ones are
// refused.
func (g *Gate) Shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln == nil {
		return
	}
	g.ln.Close()
	g.ln = nil
	for c := range g.conns {
		c.Close()
	}
}

func (g *Gate) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go g.forward(c)
	}
}

func (g *Gate) forward(c net.Conn) {
	up, err := net.Dial("tcp", g.target)
	if err != nil {
		c.Close()
		return
	}
	g.mu.Lock()
	if g.ln == nil {
		g.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	g.conns[c], g.conns[up] = true, true
	g.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	g.mu.Lock()
	delete(g.conns, c)
	delete(g.conns, up)
	g.mu.Unlock()
}
