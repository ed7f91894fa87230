package fakeaws

import (
	"encoding/json"
	"fmt"
	"strings"
)

// EventBridge's PutEvents limits, from its API reference and "Calculating
// PutEvents event entry size".
const (
	EventBridgeMaxEntries = 10
	EventBridgeMaxBytes   = 256 * 1024 // entries' sizes must be below it
)

// BusEvent is one event an event bus accepted.
type BusEvent struct {
	Source, DetailType string
	Detail             json.RawMessage
	Time               float64 // epoch seconds; 0 when the entry had none
	Resources          []string
}

// CreateEventBus creates an event bus.
func (s *Server) CreateEventBus(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buses == nil {
		s.buses = map[string][]BusEvent{}
	}
	if _, ok := s.buses[name]; !ok {
		s.buses[name] = []BusEvent{}
	}
}

// BusEvents returns the events of a bus.
func (s *Server) BusEvents(name string) []BusEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BusEvent(nil), s.buses[name]...)
}

// EventBuses returns every bus and its event count.
func (s *Server) EventBuses() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for n, e := range s.buses {
		out[n] = len(e)
	}
	return out
}

// putEvents is AWSEvents.PutEvents: limits enforced (entry sizes as AWS
// computes them), Detail checked to be a JSON object, entries failed one
// by one at the RecordFailure rate with ThrottlingException or
// InternalFailure, as EventBridge answers under load.
func (s *Server) putEvents(body []byte) (any, *apiError) {
	var in struct {
		Entries []struct {
			Source, DetailType, Detail, EventBusName string
			Time                                     *float64
			Resources                                []string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	const op = "PutEvents"
	if n := len(in.Entries); n == 0 || n > EventBridgeMaxEntries {
		return nil, s.violation(op, fmt.Sprintf("%d entries; want 1 to %d", n, EventBridgeMaxEntries))
	}
	total := 0
	events := make([]BusEvent, len(in.Entries))
	buses := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		size := len(e.Source) + len(e.DetailType) + len(e.Detail)
		if e.Time != nil {
			size += 14
		}
		for _, r := range e.Resources {
			size += len(r)
		}
		if size >= EventBridgeMaxBytes {
			return nil, s.violation(op, fmt.Sprintf("entry %d is %d bytes as EventBridge counts them; the limit is under %d", i, size, EventBridgeMaxBytes))
		}
		total += size
		if e.Source == "" || e.DetailType == "" || e.Detail == "" {
			return nil, s.violation(op, fmt.Sprintf("entry %d lacks Source, DetailType or Detail", i))
		}
		var obj map[string]any
		if json.Unmarshal([]byte(e.Detail), &obj) != nil {
			return nil, s.violation(op, fmt.Sprintf("entry %d: Detail is not a JSON object: %.80s", i, e.Detail))
		}
		bus := e.EventBusName
		if bus == "" {
			bus = "default"
		}
		if j := strings.LastIndex(bus, ":event-bus/"); j >= 0 {
			bus = bus[j+len(":event-bus/"):]
		}
		buses[i] = bus
		events[i] = BusEvent{Source: e.Source, DetailType: e.DetailType, Detail: json.RawMessage(e.Detail), Resources: e.Resources}
		if e.Time != nil {
			events[i].Time = *e.Time
		}
	}
	if total >= EventBridgeMaxBytes {
		return nil, s.violation(op, fmt.Sprintf("the entries are %d bytes together; the limit is under %d", total, EventBridgeMaxBytes))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buses == nil {
		s.buses = map[string][]BusEvent{}
	}
	resp := make([]map[string]string, len(events))
	failed := 0
	for i, e := range events {
		if _, ok := s.buses[buses[i]]; !ok && !s.AutoCreate {
			failed++
			resp[i] = map[string]string{"ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Event bus " + buses[i] + " does not exist."}
			continue
		}
		if s.faults.RecordFailure > 0 && s.rng.Float64() < s.faults.RecordFailure {
			s.injected.RecordFailure++
			failed++
			code := "ThrottlingException"
			if s.rng.IntN(2) == 0 {
				code = "InternalFailure"
			}
			resp[i] = map[string]string{"ErrorCode": code, "ErrorMessage": "injected"}
			continue
		}
		s.buses[buses[i]] = append(s.buses[buses[i]], e)
		resp[i] = map[string]string{"EventId": newID()}
	}
	return map[string]any{"FailedEntryCount": failed, "Entries": resp}, nil
}
