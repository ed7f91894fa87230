// Package rest hands memory back to the kernel while the plugin has
// nothing to do: once start-up is over, and again after a long spell with
// no flush.
//
// Most of what a resting falcocw holds is not memory it allocated: it is
// the pages of its own .so that start-up touched (every package's init,
// the SDK clients' construction, the configuration's parsing) and that a
// resting plugin never touches again, and the Go heap's pages that
// start-up's garbage left free. Both are clean, and until the kernel needs
// them they count in the resident memory a node's monitoring shows. Trim
// unmaps the .so's pages that are the page cache's (MADV_DONTNEED on its
// code and read-only data, never its relocated or written pages) and asks
// the Go runtime to return its free pages; a page needed later faults
// back in, one page at a time (MADV_RANDOM), from the page cache or the
// file.
package rest

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Mapping is one range of the process's address space mapped from a file.
type Mapping struct {
	Start, End uintptr
	Perms      string // as /proc/PID/maps shows them: r-xp
	Dev        string // major:minor in hex, as /proc/PID/maps shows it
	Inode      uint64
	Path       string
	Rss        int64 // bytes resident
	Anonymous  int64 // bytes of private copies: pages relocated or written
}

// OwnMappings returns the mappings of the file that holds this package's
// code (the .so inside Fluent Bit, the test binary in a test), with what
// of each is resident.
func OwnMappings() ([]Mapping, error) {
	return mappingsOf("/proc/self/smaps", reflect.ValueOf(OwnMappings).Pointer())
}

// mappingsOf returns the mappings in smaps of the file mapped at pc.
func mappingsOf(smaps string, pc uintptr) ([]Mapping, error) {
	all, err := ReadSmaps(smaps)
	if err != nil {
		return nil, err
	}
	var at *Mapping
	for i := range all {
		if pc >= all[i].Start && pc < all[i].End {
			at = &all[i]
		}
	}
	if at == nil {
		return nil, fmt.Errorf("rest: no file mapping holds the code at %#x", pc)
	}
	var own []Mapping
	for _, m := range all {
		if m.Inode == at.Inode && m.Dev == at.Dev {
			own = append(own, m)
		}
	}
	return own, nil
}

// ReadSmaps reads the file mappings of a /proc/PID/smaps file, with what
// of each is resident.
func ReadSmaps(name string) ([]Mapping, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Mapping
	file := false // the mapping the current lines describe is a file's
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if key, ok := strings.CutSuffix(fields[0], ":"); ok {
			// Rss:                2632 kB
			if file && len(fields) == 3 && fields[2] == "kB" {
				n, _ := strconv.ParseInt(fields[1], 10, 64)
				switch key {
				case "Rss":
					out[len(out)-1].Rss = n << 10
				case "Anonymous":
					out[len(out)-1].Anonymous = n << 10
				}
			}
			continue
		}
		// 7f..-7f.. r-xp 00292000 fe:00 10027673   /path/to/falcocw.so
		file = false
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok || len(fields) < 6 || !strings.HasPrefix(fields[5], "/") {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		inode, err3 := strconv.ParseUint(fields[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || inode == 0 {
			continue
		}
		out = append(out, Mapping{Start: uintptr(start), End: uintptr(end), Perms: fields[1], Dev: fields[3],
			Inode: inode, Path: strings.Join(fields[5:], " ")})
		file = true
	}
	return out, sc.Err()
}

// Droppable reports whether m's resident pages are all the page cache's,
// so that unmapping them loses nothing: a mapping never writable, with no
// private copy (the dynamic loader's relocations make one of the
// read-only data it relocates, and that mapping is left whole).
func (m Mapping) Droppable() bool {
	return !strings.Contains(m.Perms, "w") && m.Anonymous == 0 && m.Rss > 0
}

const (
	madvRandom   = 1 // MADV_RANDOM: fault in the page touched, no read-around
	madvDontneed = 4 // MADV_DONTNEED: unmap; a page cache page stays cached
	fadvDontneed = 4 // POSIX_FADV_DONTNEED: drop the file's unmapped cached pages
)

// Trim gives back the Go heap's free pages and unmaps the droppable pages
// of the plugin's own file, and returns the bytes it unmapped. It also
// drops the file's cached pages that no process maps, so that a page
// faulted back is read alone and not with the large folio the page cache
// may hold it in (which a recent kernel maps whole). A mapping it cannot
// trim is left as it was; the error says which and why.
func Trim() (int64, error) {
	debug.FreeOSMemory()
	own, err := OwnMappings()
	if err != nil {
		return 0, err
	}
	var dropped int64
	for _, m := range own {
		if !m.Droppable() {
			continue
		}
		if err := madvise(m, madvRandom); err != nil {
			return dropped, err
		}
		if err := madvise(m, madvDontneed); err != nil {
			return dropped, err
		}
		dropped += m.Rss
	}
	if len(own) > 0 {
		uncache(own[0])
	}
	return dropped, nil
}

func madvise(m Mapping, advice uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.Start, m.End-m.Start, advice); e != 0 {
		return fmt.Errorf("rest: madvise(%d) on %s: %v", advice, m.Path, e)
	}
	return nil
}

// uncache drops the cached pages of m's file that no process maps, when
// the file at m's path is still the one mapped (not replaced since).
func uncache(m Mapping) {
	f, err := os.Open(m.Path)
	if err != nil {
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Ino != m.Inode || devString(uint64(sys.Dev)) != m.Dev {
		return
	}
	_, _, _ = syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontneed, 0, 0)
}

// devString writes a Linux dev_t as /proc/PID/maps does: major:minor in
// hex, two digits at least.
func devString(dev uint64) string {
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	return fmt.Sprintf("%02x:%02x", major, minor)
}
