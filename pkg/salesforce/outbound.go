package salesforce

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// XML namespaces of Outbound Messaging.
const (
	// OutboundNamespace is the namespace of the notifications request and
	// the notificationsResponse acknowledgement.
	OutboundNamespace = "http://soap.sforce.com/2005/09/outbound"
	// SObjectNamespace is the namespace of the sObject fields (the
	// enterprise WSDL's); the parser accepts fields in any namespace.
	SObjectNamespace = "urn:sobject.enterprise.soap.sforce.com"
	// SOAPEnvNamespace is the SOAP 1.1 envelope namespace.
	SOAPEnvNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
	xsiNamespace     = "http://www.w3.org/2001/XMLSchema-instance"
)

// MaxNotifications is the most notifications one Outbound Message carries.
const MaxNotifications = 100

// ErrMalformedMessage is wrapped by ParseOutboundMessage for anything that
// is not a well-formed, complete Outbound Message. ErrNoNotifications is
// the special case of a message without notifications.
var (
	ErrMalformedMessage = errors.New("malformed outbound message")
	ErrNoNotifications  = fmt.Errorf("%w: no notifications", ErrMalformedMessage)
)

// OutboundMessage is one Outbound Message: the notifications element of
// the SOAP request Salesforce POSTs.
type OutboundMessage struct {
	OrganizationID string
	ActionID       string
	// SessionID is a live session of the sending user when the message is
	// set up to send one ("" when nil). It is a secret: it prints as
	// [redacted] and crmsync never uses it.
	SessionID     Secret
	EnterpriseURL string
	PartnerURL    string
	Notifications []Notification
}

// Secret is a string that does not print.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Notification is one record change in an Outbound Message. ID is the
// notification's id: Salesforce keeps it when it redelivers.
type Notification struct {
	ID      string
	SObject SObject
}

// SObject is the record in a notification: its type and the fields the
// outbound message was set up to send, in document order (the Id is one
// of them). Values are text, as sent; they are hints, never the truth.
type SObject struct {
	// Type is the sObject API name from xsi:type, without its prefix
	// ("Lead", "Invoice__c").
	Type   string
	Fields []Field
}

// Field is one field of an sObject. Nil reports xsi:nil="true".
type Field struct {
	Name  string
	Value string
	Nil   bool
}

// ID returns the record id (the Id field).
func (s SObject) ID() string {
	v, _ := s.Get("Id")
	return v
}

// Get returns the value of the named field and whether it is present and
// not nil.
func (s SObject) Get(name string) (string, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f.Value, !f.Nil
		}
	}
	return "", false
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// ParseOutboundMessage parses the body of an Outbound Message request. It
// tolerates a UTF-8 BOM, an XML declaration and any namespace prefixes;
// it requires the SOAP 1.1 envelope, the outbound namespace, an
// organization id and 1–100 notifications each with an id and an sObject
// that has a type and an Id. Elements it does not know are skipped.
// Errors wrap ErrMalformedMessage.
//
// It streams the body with encoding/xml's RawToken and resolves namespace
// prefixes itself (outboundParser): no reflection and no per-token
// namespace translation, which made most of a receiver's allocations.
func ParseOutboundMessage(body []byte) (*OutboundMessage, error) {
	p := &outboundParser{d: xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))}
	m, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("salesforce: parse outbound message: %w", err)
	}
	return m, nil
}

// outboundParser walks an Outbound Message's elements, keeping the open
// elements (with their namespace declarations) on a stack.
type outboundParser struct {
	d     *xml.Decoder
	stack []openElement
	text  []byte
}

// openElement is an element being read: its name as written, its
// namespace and the prefixes it declares.
type openElement struct {
	raw   xml.Name
	space string
	decl  []xml.Attr
}

// namespace resolves a prefix ("" = the default namespace) against the
// open elements' declarations.
func (p *outboundParser) namespace(prefix string) string {
	for i := len(p.stack) - 1; i >= 0; i-- {
		for _, a := range p.stack[i].decl {
			if prefix == "" && a.Name.Space == "" && a.Name.Local == "xmlns" || prefix != "" && a.Name.Space == "xmlns" && a.Name.Local == prefix {
				return a.Value
			}
		}
	}
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace"
	}
	return ""
}

// next returns the next start element at depth (the stack's length + 1),
// or ok false at the end of the element open at depth − 1. Text directly
// inside elements is collected in p.text for leaf().
func (p *outboundParser) next() (xml.StartElement, string, bool, error) {
	for {
		tok, err := p.d.RawToken()
		if err != nil {
			return xml.StartElement{}, "", false, fmt.Errorf("%w: %v", ErrMalformedMessage, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := openElement{raw: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					e.decl = append(e.decl, a)
				}
			}
			p.stack = append(p.stack, e)
			p.stack[len(p.stack)-1].space = p.namespace(t.Name.Space)
			return t, p.stack[len(p.stack)-1].space, true, nil
		case xml.EndElement:
			if len(p.stack) == 0 || p.stack[len(p.stack)-1].raw != t.Name {
				return xml.StartElement{}, "", false, fmt.Errorf("%w: unexpected end element </%s>", ErrMalformedMessage, t.Name.Local)
			}
			p.stack = p.stack[:len(p.stack)-1]
			return xml.StartElement{}, "", false, nil
		case xml.CharData:
			p.text = append(p.text, t...)
		}
	}
}

// skip reads to the end of the element just started.
func (p *outboundParser) skip() error {
	for {
		_, _, ok, err := p.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := p.skip(); err != nil {
			return err
		}
	}
}

// leaf reads the text of the element just started, to its end (the text
// of elements inside it is skipped, as Unmarshal into a string does).
func (p *outboundParser) leaf() (string, error) {
	p.text = p.text[:0]
	var text []byte
	for {
		_, _, ok, err := p.next()
		if err != nil {
			return "", err
		}
		text = append(text, p.text...)
		p.text = p.text[:0]
		if !ok {
			return string(text), nil
		}
		if err := p.skip(); err != nil {
			return "", err
		}
		p.text = p.text[:0]
	}
}

func (p *outboundParser) parse() (*OutboundMessage, error) {
	env, space, ok, err := p.next()
	switch {
	case err != nil:
		return nil, err
	case !ok || space != SOAPEnvNamespace || env.Name.Local != "Envelope":
		return nil, fmt.Errorf("%w: expected a SOAP 1.1 Envelope", ErrMalformedMessage)
	}
	var m *OutboundMessage
	for {
		el, space, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if space != SOAPEnvNamespace || el.Name.Local != "Body" {
			if err := p.skip(); err != nil {
				return nil, err
			}
			continue
		}
		if m, err = p.body(m); err != nil {
			return nil, err
		}
	}
	return m.validate() // what follows the envelope is not read, as xml.Unmarshal does not
}

// body reads the Body's notifications element (the last one wins).
func (p *outboundParser) body(m *OutboundMessage) (*OutboundMessage, error) {
	for {
		el, space, ok, err := p.next()
		if err != nil || !ok {
			return m, err
		}
		if space != OutboundNamespace || el.Name.Local != "notifications" {
			if err := p.skip(); err != nil {
				return nil, err
			}
			continue
		}
		if m, err = p.notifications(); err != nil {
			return nil, err
		}
	}
}

func (p *outboundParser) notifications() (*OutboundMessage, error) {
	m := &OutboundMessage{}
	for {
		el, space, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return m, nil
		}
		if space != OutboundNamespace {
			if err := p.skip(); err != nil {
				return nil, err
			}
			continue
		}
		var dst *string
		var session string
		switch el.Name.Local {
		case "OrganizationId":
			dst = &m.OrganizationID
		case "ActionId":
			dst = &m.ActionID
		case "SessionId":
			dst = &session
		case "EnterpriseUrl":
			dst = &m.EnterpriseURL
		case "PartnerUrl":
			dst = &m.PartnerURL
		case "Notification":
			if len(m.Notifications) == MaxNotifications {
				return nil, fmt.Errorf("%w: more than %d notifications", ErrMalformedMessage, MaxNotifications)
			}
			n, err := p.notification()
			if err != nil {
				return nil, err
			}
			m.Notifications = append(m.Notifications, n)
			continue
		default:
			if err := p.skip(); err != nil {
				return nil, err
			}
			continue
		}
		v, err := p.leaf()
		if err != nil {
			return nil, err
		}
		*dst = strings.TrimSpace(v)
		if el.Name.Local == "SessionId" {
			m.SessionID = Secret(strings.TrimSpace(session))
		}
	}
}

// notification reads one Notification: its Id and its sObject.
func (p *outboundParser) notification() (Notification, error) {
	var n Notification
	seenObject := false
	for {
		el, space, ok, err := p.next()
		if err != nil {
			return n, err
		}
		if !ok {
			return n, p.checkNotification(n, seenObject)
		}
		switch {
		case space == OutboundNamespace && el.Name.Local == "Id":
			v, err := p.leaf()
			if err != nil {
				return n, err
			}
			n.ID = strings.TrimSpace(v)
		case space == OutboundNamespace && el.Name.Local == "sObject":
			seenObject = true
			if n.SObject, err = p.sObject(el); err != nil {
				return n, err
			}
		default:
			if err := p.skip(); err != nil {
				return n, err
			}
		}
	}
}

func (p *outboundParser) checkNotification(n Notification, seenObject bool) error {
	switch {
	case n.ID == "":
		return fmt.Errorf("%w: a notification has no Id", ErrMalformedMessage)
	case !seenObject:
		return fmt.Errorf("%w: notification %s has no sObject", ErrMalformedMessage, n.ID)
	case n.SObject.Type == "":
		return fmt.Errorf("%w: notification %s: sObject without xsi:type", ErrMalformedMessage, n.ID)
	case !ValidID(n.SObject.ID()):
		return fmt.Errorf("%w: notification %s: sObject without a valid Id", ErrMalformedMessage, n.ID)
	}
	return nil
}

// sObject reads an sObject element: xsi:type names the type (any prefix;
// only the local part is kept) and every child element is a field.
func (p *outboundParser) sObject(start xml.StartElement) (SObject, error) {
	var s SObject
	for _, a := range start.Attr {
		if a.Name.Local == "type" && a.Name.Space != "" && p.namespace(a.Name.Space) == xsiNamespace {
			s.Type = a.Value[strings.IndexByte(a.Value, ':')+1:]
		}
	}
	for {
		el, _, ok, err := p.next()
		if err != nil {
			return s, err
		}
		if !ok {
			return s, nil
		}
		if !apiName(el.Name.Local) {
			return s, fmt.Errorf("%w: sObject field %q is not an API name", ErrMalformedMessage, el.Name.Local)
		}
		f := Field{Name: el.Name.Local}
		for _, a := range el.Attr {
			if a.Name.Local == "nil" && a.Name.Space != "" && (a.Value == "true" || a.Value == "1") && p.namespace(a.Name.Space) == xsiNamespace {
				f.Nil = true
			}
		}
		if f.Value, err = p.leaf(); err != nil {
			return s, err
		}
		s.Fields = append(s.Fields, f)
	}
}

// apiName reports whether s can be a Salesforce field's API name: a
// letter, then letters, digits and underscores ("Id", "Region__c").
func apiName(s string) bool {
	for i, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return false
		}
	}
	return s != ""
}

// validate checks what the whole message must have.
func (m *OutboundMessage) validate() (*OutboundMessage, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("%w: no notifications element in %s", ErrMalformedMessage, OutboundNamespace)
	case !ValidID(m.OrganizationID):
		return nil, fmt.Errorf("%w: bad OrganizationId %q", ErrMalformedMessage, m.OrganizationID)
	case len(m.Notifications) == 0:
		return nil, ErrNoNotifications
	}
	return m, nil
}

// DedupeKey is the dedupe key of a notification: redeliveries of the same
// notification (same Id) share it.
func DedupeKey(notificationID string) string {
	return crmsync.DedupeKeyOf(string(crmsync.Salesforce), "outbound", notificationID)
}

// Triggers turns the message into one trigger per distinct notification
// (a notification Id repeated within the message yields one trigger). Each
// says "this record changed" (KindPropertyChanged); its Properties are the
// field names present except Id — the fields the message was set up to
// send, not necessarily the ones that changed. OccurredAt is the record's
// SystemModstamp, else its LastModifiedDate, else received. Notifications
// of sObject types crmsync does not sync are returned in skipped.
func (m *OutboundMessage) Triggers(received time.Time) (triggers []crmsync.Trigger, skipped []Notification) {
	triggers = make([]crmsync.Trigger, 0, len(m.Notifications))
	seen := make(map[string]bool, len(m.Notifications))
	for _, n := range m.Notifications {
		if seen[n.ID] {
			continue
		}
		seen[n.ID] = true
		obj := crmsync.ObjectType(n.SObject.Type)
		if obj.Side() != crmsync.Salesforce {
			skipped = append(skipped, n)
			continue
		}
		props := make([]string, 0, len(n.SObject.Fields))
		for _, f := range n.SObject.Fields {
			if f.Name != "Id" {
				props = append(props, f.Name)
			}
		}
		triggers = append(triggers, crmsync.Trigger{
			Record:     crmsync.RecordRef{Side: crmsync.Salesforce, Object: obj, ID: n.SObject.ID()},
			Kind:       crmsync.KindPropertyChanged,
			Properties: props,
			OccurredAt: n.SObject.changedAt(received),
			DeliveryID: n.ID,
			DedupeKey:  DedupeKey(n.ID),
		})
	}
	return triggers, skipped
}

func (s SObject) changedAt(fallback time.Time) time.Time {
	for _, name := range []string{"SystemModstamp", "LastModifiedDate"} {
		if v, ok := s.Get(name); ok {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t.UTC()
			}
		}
	}
	return fallback.UTC()
}

// MarshalSOAP returns the message as the SOAP request Salesforce sends
// (what the simulator POSTs). Fields are written in the sf: prefix of
// SObjectNamespace; an empty SessionID is written as xsi:nil.
func (m *OutboundMessage) MarshalSOAP() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + SOAPEnvNamespace + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="` + xsiNamespace + `">` + "\n")
	b.WriteString(" <soapenv:Body>\n  <notifications xmlns=\"" + OutboundNamespace + "\">\n")
	elem := func(indent, name, value string) {
		b.WriteString(indent + "<" + name + ">")
		xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">\n")
	}
	elem("   ", "OrganizationId", m.OrganizationID)
	elem("   ", "ActionId", m.ActionID)
	if m.SessionID == "" {
		b.WriteString("   <SessionId xsi:nil=\"true\"/>\n")
	} else {
		elem("   ", "SessionId", string(m.SessionID))
	}
	elem("   ", "EnterpriseUrl", m.EnterpriseURL)
	elem("   ", "PartnerUrl", m.PartnerURL)
	for _, n := range m.Notifications {
		b.WriteString("   <Notification>\n")
		elem("    ", "Id", n.ID)
		b.WriteString(`    <sObject xsi:type="sf:`)
		xml.EscapeText(&b, []byte(n.SObject.Type))
		b.WriteString(`" xmlns:sf="` + SObjectNamespace + "\">\n")
		for _, f := range n.SObject.Fields {
			if f.Nil {
				b.WriteString("     <sf:" + f.Name + " xsi:nil=\"true\"/>\n")
				continue
			}
			elem("     ", "sf:"+f.Name, f.Value)
		}
		b.WriteString("    </sObject>\n   </Notification>\n")
	}
	b.WriteString("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	return b.Bytes()
}

// AckResponse is the documented acknowledgement: notificationsResponse in
// the outbound namespace with Ack true.
const AckResponse = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`

// FaultCode is a SOAP 1.1 fault code.
type FaultCode string

// Fault codes: Client — the request is wrong and resending it unchanged
// will not help; Server — the receiver failed, try again.
const (
	FaultClient FaultCode = "soapenv:Client"
	FaultServer FaultCode = "soapenv:Server"
)

// FaultResponse returns a SOAP 1.1 fault envelope with the message escaped.
func FaultResponse(code FaultCode, message string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>`)
	xml.EscapeText(&b, []byte(code))
	b.WriteString("</faultcode>\n   <faultstring>")
	xml.EscapeText(&b, []byte(message))
	b.WriteString("</faultstring>\n   <detail />\n  </soapenv:Fault>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	return b.Bytes()
}

type ackEnvelopeXML struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Response *struct {
			Ack string `xml:"http://soap.sforce.com/2005/09/outbound Ack"`
		} `xml:"http://soap.sforce.com/2005/09/outbound notificationsResponse"`
		Fault *struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// ParseAck reads a receiver's answer the way Salesforce does: true only
// for a notificationsResponse whose Ack is true. A fault is reported as a
// *FaultError; anything else unparseable wraps ErrMalformedMessage.
func ParseAck(body []byte) (bool, error) {
	var env ackEnvelopeXML
	if err := xml.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &env); err != nil {
		return false, fmt.Errorf("salesforce: parse ack: %w: %v", ErrMalformedMessage, err)
	}
	switch {
	case env.Body.Fault != nil:
		return false, &FaultError{Code: env.Body.Fault.Code, Message: env.Body.Fault.String}
	case env.Body.Response == nil:
		return false, fmt.Errorf("salesforce: parse ack: %w: no notificationsResponse", ErrMalformedMessage)
	}
	ack := strings.TrimSpace(env.Body.Response.Ack)
	return ack == "true" || ack == "1", nil
}

// FaultError is a SOAP fault received from an Outbound Message endpoint.
type FaultError struct {
	Code    string
	Message string
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("salesforce: soap fault %s: %s", e.Code, e.Message)
}

// Transient reports whether resending may help: Salesforce resends after
// any fault, but a Server fault is the receiver saying so.
func (e *FaultError) Transient() bool {
	return strings.HasSuffix(e.Code, ":Server") || e.Code == "Server"
}
