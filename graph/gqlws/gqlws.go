// Package gqlws is a small client of the graphql-transport-ws protocol, the one Portside serves
// subscriptions with on /graphql: for tests and tools that follow a subscription.
package gqlws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// message is one graphql-transport-ws message. The payload is an object, except an error
// message's: a list of errors.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Subscription is one subscription on its own connection.
type Subscription struct {
	conn *websocket.Conn
}

// Subscribe connects to url (ws:// or wss://) with header (a cookie and Origin, or an
// Authorization), waits for the server to acknowledge the connection and starts query. The
// response is the handshake's, for callers that check a refusal.
func Subscribe(ctx context.Context, url string, header http.Header, query string) (*Subscription, *http.Response, error) {
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, resp, err
	}
	if err := wsjson.Write(ctx, conn, message{Type: "connection_init"}); err != nil {
		conn.CloseNow()
		return nil, resp, err
	}
	var ack message
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		conn.CloseNow()
		return nil, resp, fmt.Errorf("gqlws: connection_init answered %+v, %v", ack, err)
	}
	payload, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		conn.CloseNow()
		return nil, resp, err
	}
	if err := wsjson.Write(ctx, conn, message{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		conn.CloseNow()
		return nil, resp, err
	}
	return &Subscription{conn: conn}, resp, nil
}

// Next returns the data of the subscription's next event, answering the server's pings on the
// way. An event with errors, the server's refusal of the subscription (an error message: a
// validation failure, a bound), its end and anything unexpected are errors.
func (s *Subscription) Next(ctx context.Context) (map[string]any, error) {
	for {
		var m message
		if err := wsjson.Read(ctx, s.conn, &m); err != nil {
			return nil, err
		}
		switch m.Type {
		case "ping":
			if err := wsjson.Write(ctx, s.conn, message{Type: "pong"}); err != nil {
				return nil, err
			}
		case "next":
			var result struct {
				Data   map[string]any `json:"data"`
				Errors []any          `json:"errors"`
			}
			if err := json.Unmarshal(m.Payload, &result); err != nil {
				return nil, fmt.Errorf("gqlws: a next message's payload: %w", err)
			}
			if result.Errors != nil {
				return nil, fmt.Errorf("gqlws: subscription error: %v", result.Errors)
			}
			return result.Data, nil
		case "error":
			return nil, fmt.Errorf("gqlws: the server refused the subscription: %s", m.Payload)
		case "complete":
			return nil, fmt.Errorf("gqlws: the server completed the subscription")
		default:
			return nil, fmt.Errorf("gqlws: unexpected message %+v", m)
		}
	}
}

// Close ends the connection.
func (s *Subscription) Close() error { return s.conn.CloseNow() }
