// Drives the HubSpot simulator (pkg/sandbox/hubspotsim) with HubSpot's own
// Node client, @hubspot/api-client (pinned in package.json). Run by
// vendorclients_test.go, which starts the portals and passes:
//   HUBSPOT_BASE_PATH     a portal without limits, mounted under a prefix
//   HUBSPOT_LIMITED_PATH  a portal with tiny burst and search limits
//   HUBSPOT_ADMIN_PATH    HUBSPOT_BASE_PATH's admin API (/_admin)
//   HUBSPOT_TOKEN         the bearer token both portals require
// Every expectation is what HubSpot's reference and the client's generated
// models define; a failure is a simulator bug unless the client is wrong.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const hubspot = require('@hubspot/api-client');

const basePath = process.env.HUBSPOT_BASE_PATH;
const accessToken = process.env.HUBSPOT_TOKEN;
assert.ok(basePath && accessToken, 'HUBSPOT_BASE_PATH and HUBSPOT_TOKEN must be set (vendorclients_test.go sets them)');

// No limiterOptions and no numberOfApiCallRetries: the client then has
// neither a Bottleneck limiter nor the retry decorator (src/client.js
// getDecorators), so calls go out at once and errors surface at once.
const client = new hubspot.Client({ accessToken, basePath });

let seq = 0;
const unique = (name) => `${name}.${process.pid}.${++seq}@example.com`;

async function rejects(promise, status, check) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, status, `status of ${e.message}: ${JSON.stringify(e.body)}`);
    if (check) check(e.body, e);
    return e;
  }
  assert.fail(`expected an error with status ${status}`);
}

async function admin(method, path, body) {
  const res = await fetch(process.env.HUBSPOT_ADMIN_PATH + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // The body is read once: the message needs it only on failure.
  const text = await res.text();
  assert.ok(res.status < 300, `admin ${method} ${path}: ${res.status} ${text}`);
  return text === '' ? null : JSON.parse(text);
}

test('contacts: create, read several properties, update, page, archive', async () => {
  const email = unique('ada');
  const created = await client.crm.contacts.basicApi.create({
    properties: { email, firstname: 'Ada', lastname: 'Lovelace', phone: '+44 20 7946 0000', lifecyclestage: 'lead' },
    associations: [],
  });
  assert.match(created.id, /^\d+$/);
  assert.ok(created.createdAt instanceof Date && !isNaN(created.createdAt));
  assert.equal(created.properties.email, email);
  assert.equal(created.archived, false);

  // The client sends properties=firstname&properties=lastname&properties=email.
  const got = await client.crm.contacts.basicApi.getById(created.id, ['firstname', 'lastname', 'email']);
  assert.equal(got.properties.firstname, 'Ada');
  assert.equal(got.properties.lastname, 'Lovelace');
  assert.equal(got.properties.email, email);
  assert.equal(got.properties.hs_object_id, created.id);
  assert.equal(got.properties.phone, undefined, 'a property not asked for came back');

  const byEmail = await client.crm.contacts.basicApi.getById(email, ['firstname'], undefined, undefined, false, 'email');
  assert.equal(byEmail.id, created.id);

  const updated = await client.crm.contacts.basicApi.update(created.id, { properties: { firstname: 'Augusta', lifecyclestage: 'customer' } });
  assert.equal(updated.properties.firstname, 'Augusta');
  assert.ok(updated.updatedAt >= created.updatedAt);

  // Lifecycle stage never moves backwards (VALIDATION_ERROR, INVALID_OPTION).
  await rejects(client.crm.contacts.basicApi.update(created.id, { properties: { lifecyclestage: 'lead' } }), 400, (body) => {
    assert.equal(body.category, 'VALIDATION_ERROR');
    assert.equal(body.errors[0].code, 'INVALID_OPTION');
  });
  // A second contact with the same email is a conflict.
  await rejects(client.crm.contacts.basicApi.create({ properties: { email }, associations: [] }), 409, (body) => {
    assert.equal(body.category, 'CONFLICT');
    assert.match(body.correlationId, /^[0-9a-f-]{36}$/);
  });
  await rejects(client.crm.contacts.basicApi.create({ properties: { email: 'not an email' }, associations: [] }), 400, (body) => {
    assert.equal(body.category, 'VALIDATION_ERROR');
    assert.equal(body.errors[0].code, 'INVALID_EMAIL');
  });

  // Paging: getPage follows paging.next.after; getAll walks every page.
  const ids = [created.id];
  for (let i = 0; i < 4; i++) {
    ids.push((await client.crm.contacts.basicApi.create({ properties: { email: unique('page') }, associations: [] })).id);
  }
  const first = await client.crm.contacts.basicApi.getPage(2, undefined, ['email', 'firstname']);
  assert.equal(first.results.length, 2);
  assert.ok(first.paging && first.paging.next && first.paging.next.after);
  const all = await client.crm.contacts.getAll(2, undefined, ['email']);
  for (const id of ids) assert.ok(all.some((c) => c.id === id), `getAll lacks ${id}`);

  await client.crm.contacts.basicApi.archive(created.id);
  await rejects(client.crm.contacts.basicApi.getById(created.id), 404, (body) => {
    assert.equal(body.category, 'OBJECT_NOT_FOUND');
  });
  const archived = await client.crm.contacts.basicApi.getById(created.id, ['email'], undefined, undefined, true);
  assert.equal(archived.archived, true);
  assert.ok(archived.archivedAt instanceof Date);
});

test('search: filters, sorts, properties, paging and its limits', async () => {
  const company = `Search Co ${process.pid}`;
  for (let i = 0; i < 5; i++) {
    await client.crm.contacts.basicApi.create({
      properties: { email: unique(`s${i}`), company, firstname: `F${i}` },
      associations: [],
    });
  }
  const req = {
    filterGroups: [{ filters: [{ propertyName: 'company', operator: 'EQ', value: company }] }],
    sorts: [{ propertyName: 'firstname', direction: 'DESCENDING' }],
    properties: ['firstname', 'company'],
    limit: 2,
    after: '0',
  };
  const page1 = await client.crm.contacts.searchApi.doSearch(req);
  assert.equal(page1.total, 5);
  assert.deepEqual(page1.results.map((r) => r.properties.firstname), ['F4', 'F3']);
  assert.ok(page1.paging.next.after);
  const page3 = await client.crm.contacts.searchApi.doSearch({ ...req, after: '4' });
  assert.deepEqual(page3.results.map((r) => r.properties.firstname), ['F0']);
  assert.equal(page3.paging, undefined);

  // The client's model types sorts as strings and JavaScript callers pass
  // after as a number: both forms are read.
  const asStrings = await client.crm.contacts.searchApi.doSearch({ ...req, sorts: ['firstname'], after: 0 });
  assert.deepEqual(asStrings.results.map((r) => r.properties.firstname), ['F0', 'F1']);
  const byQuery = await client.crm.contacts.searchApi.doSearch({ query: 'f3', filterGroups: req.filterGroups, properties: ['firstname'], limit: 10, after: '0', sorts: [] });
  assert.deepEqual(byQuery.results.map((r) => r.properties.firstname), ['F3']);

  const tooMany = { ...req, limit: 201 };
  await rejects(client.crm.contacts.searchApi.doSearch(tooMany), 400, (body) => assert.equal(body.category, 'VALIDATION_ERROR'));
  const filters = Array.from({ length: 7 }, () => ({ propertyName: 'company', operator: 'HAS_PROPERTY' }));
  await rejects(client.crm.contacts.searchApi.doSearch({ ...req, filterGroups: [{ filters }] }), 400);
  await rejects(client.crm.contacts.searchApi.doSearch({ ...req, after: '9999' }), 400);
});

test('batch: create, read with errors, update, upsert, archive, 100-input cap', async () => {
  const emails = [unique('b1'), unique('b2'), unique('b3')];
  const created = await client.crm.contacts.batchApi.create({
    inputs: emails.map((email, i) => ({ properties: { email, firstname: `B${i}` }, associations: [] })),
  });
  assert.equal(created.status, 'COMPLETE');
  assert.equal(created.results.length, 3);
  // Results come back in no promised order: match them by email.
  const ids = emails.map((email) => created.results.find((r) => r.properties.email === email).id);

  const read = await client.crm.contacts.batchApi.read({
    inputs: [...ids.map((id) => ({ id })), { id: '1' }],
    properties: ['email', 'firstname'],
    propertiesWithHistory: [],
  });
  assert.equal(read.results.length, 3);
  assert.equal(read.numErrors, 1);
  assert.equal(read.errors[0].category, 'OBJECT_NOT_FOUND');
  assert.deepEqual(read.errors[0].context.ids, ['1']);

  const byEmail = await client.crm.contacts.batchApi.read({ inputs: [{ id: emails[0] }], properties: ['firstname'], propertiesWithHistory: [], idProperty: 'email' });
  assert.equal(byEmail.results[0].id, ids[0]);

  const upd = await client.crm.contacts.batchApi.update({ inputs: ids.map((id) => ({ id, properties: { jobtitle: 'Engineer' } })) });
  assert.equal(upd.results.length, 3);
  assert.ok(upd.results.every((r) => r.properties.jobtitle === 'Engineer'));

  const newEmail = unique('upsert');
  const ups = await client.crm.contacts.batchApi.upsert({
    inputs: [
      { id: emails[1], idProperty: 'email', properties: { firstname: 'Upserted' } },
      { id: newEmail, idProperty: 'email', properties: { firstname: 'New' } },
    ],
  });
  assert.equal(ups.results.length, 2);
  assert.deepEqual(ups.results.map((r) => r.properties.firstname).sort(), ['New', 'Upserted']);

  await client.crm.contacts.batchApi.archive({ inputs: ids.map((id) => ({ id })) });
  await rejects(client.crm.contacts.basicApi.getById(ids[0]), 404);

  const inputs = Array.from({ length: 101 }, (_, i) => ({ properties: { email: unique(`cap${i}`) }, associations: [] }));
  await rejects(client.crm.contacts.batchApi.create({ inputs }), 400, (body) => assert.equal(body.category, 'VALIDATION_ERROR'));
});

test('associations v4: default, labelled, read, batch, archive', async () => {
  const contact = await client.crm.contacts.basicApi.create({ properties: { email: unique('assoc') }, associations: [] });
  const company = await client.crm.companies.basicApi.create({ properties: { name: 'Assoc Co', domain: 'assoc.example.com' }, associations: [] });
  const deal = await client.crm.deals.basicApi.create({ properties: { dealname: 'Assoc deal', amount: '100' }, associations: [] });

  const def = await client.crm.associations.v4.basicApi.createDefault('contacts', contact.id, 'companies', company.id);
  assert.equal(def.status, 'COMPLETE');
  assert.equal(def.results[0].associationSpec.associationCategory, 'HUBSPOT_DEFINED');
  assert.equal(def.results[0].associationSpec.associationTypeId, 279);

  const labelled = await client.crm.associations.v4.basicApi.create('deals', deal.id, 'contacts', contact.id, [
    { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 },
  ]);
  assert.equal(String(labelled.toObjectId), contact.id);

  const pageOf = await client.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'companies', undefined, 500);
  assert.deepEqual(pageOf.results.map((r) => String(r.toObjectId)), [company.id]);
  assert.equal(pageOf.results[0].associationTypes[0].typeId, 279);

  const withAssoc = await client.crm.contacts.basicApi.getById(contact.id, ['email'], undefined, ['companies', 'deals']);
  assert.deepEqual(withAssoc.associations.companies.results.map((r) => r.id), [company.id]);
  assert.deepEqual(withAssoc.associations.deals.results.map((r) => r.id), [deal.id]);

  const read = await client.crm.associations.v4.batchApi.getPage('contacts', 'deals', { inputs: [{ id: contact.id }] });
  assert.deepEqual(read.results[0].to.map((t) => String(t.toObjectId)), [deal.id]);

  const second = await client.crm.companies.basicApi.create({ properties: { name: 'Second Co' }, associations: [] });
  const batch = await client.crm.associations.v4.batchApi.createDefault('contacts', 'companies', {
    inputs: [{ _from: { id: contact.id }, to: { id: second.id } }],
  });
  assert.equal(batch.results.length, 1);

  await client.crm.associations.v4.basicApi.archive('contacts', contact.id, 'companies', company.id);
  const after = await client.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'companies');
  assert.deepEqual(after.results.map((r) => String(r.toObjectId)), [second.id]);

  await rejects(client.crm.associations.v4.basicApi.createDefault('contacts', contact.id, 'companies', '1'), 400, (body) => {
    assert.equal(body.subCategory, 'crm.associations.INVALID_OBJECT_IDS');
  });
});

test('lists: create a list, add and remove members, memberships both ways', async () => {
  const a = await client.crm.contacts.basicApi.create({ properties: { email: unique('list') }, associations: [] });
  const b = await client.crm.contacts.basicApi.create({ properties: { email: unique('list') }, associations: [] });
  const name = `Vendor clients ${process.pid}`;
  const created = await client.crm.lists.listsApi.create({ name, objectTypeId: '0-1', processingType: 'MANUAL' });
  const listId = created.list.listId;
  assert.match(listId, /^\d+$/);
  assert.equal(created.list.processingType, 'MANUAL');
  assert.ok(created.list.createdAt instanceof Date);

  const added = await client.crm.lists.membershipsApi.add(listId, [a.id, b.id, '1']);
  assert.deepEqual([...added.recordsIdsAdded].sort(), [a.id, b.id].sort());
  assert.deepEqual(added.recordIdsMissing, ['1']);
  // Admin lists (as a person makes them in the UI) sit beside API lists.
  await admin('PUT', `/lists/9002/contacts/${a.id}`);

  const members = await client.crm.lists.membershipsApi.getPage(listId, undefined, undefined, 1);
  assert.equal(members.results.length, 1);
  assert.ok(members.paging.next.after);
  const rest = await client.crm.lists.membershipsApi.getPage(listId, members.paging.next.after, undefined, 100);
  assert.deepEqual([...members.results, ...rest.results].map((m) => m.recordId).sort(), [a.id, b.id].sort());
  assert.equal(members.total, 2);
  assert.equal(rest.paging, undefined); // paging.next only while more results follow
  // A before token alone pages backwards: what precedes it, descending.
  const back = await client.crm.lists.membershipsApi.getPage(listId, undefined, members.paging.next.after, 100);
  assert.deepEqual(back.results.map((m) => m.recordId), members.results.map((m) => m.recordId));
  assert.equal(back.paging, undefined);

  const lists = await client.crm.lists.membershipsApi.getLists('0-1', a.id);
  assert.deepEqual(lists.results.map((l) => l.listId).sort(), [listId, '9002'].sort());
  assert.equal(lists.total, 2);

  const removed = await client.crm.lists.membershipsApi.remove(listId, [b.id]);
  assert.deepEqual(removed.recordIdsRemoved, [b.id]);
  const got = await client.crm.lists.listsApi.getById(listId);
  assert.equal(got.list.name, name);
  assert.equal(got.list.size, 1);
  assert.equal((await client.crm.lists.listsApi.getByName(name, '0-1')).list.listId, listId);

  await rejects(client.crm.lists.listsApi.create({ name, objectTypeId: '0-1', processingType: 'MANUAL' }), 409);
  await rejects(client.crm.lists.listsApi.create({ name: 'x', objectTypeId: '0-1', processingType: 'SOMETIMES' }), 400);
  await client.crm.lists.listsApi.remove(listId);
  await rejects(client.crm.lists.listsApi.getById(listId), 404);
  await rejects(client.crm.lists.membershipsApi.getPage('424242'), 404);
});

test('users become owners; owners are read-only', async () => {
  const email = unique('rep');
  const user = await client.settings.users.usersApi.create({ email, firstName: 'Rita', lastName: 'Rep', sendWelcomeEmail: false });
  assert.match(user.id, /^\d+$/);
  assert.equal(user.email, email);

  // OwnersApi.getPage calls GET /crm/v3/owners/ (with the slash).
  const owners = await client.crm.owners.ownersApi.getPage(email);
  assert.equal(owners.results.length, 1);
  const owner = owners.results[0];
  assert.equal(String(owner.userId), user.id);
  assert.equal(owner.firstName, 'Rita');
  assert.equal(owner.archived, false);
  assert.ok(owner.createdAt instanceof Date);

  const byID = await client.crm.owners.ownersApi.getById(Number(owner.id), 'id');
  assert.equal(byID.email, email);
  const byUser = await client.crm.owners.ownersApi.getById(Number(user.id), 'userId');
  assert.equal(byUser.id, owner.id);

  const fetched = await client.settings.users.usersApi.getById(email, 'EMAIL');
  assert.equal(fetched.id, user.id);
  const page = await client.settings.users.usersApi.getPage(100);
  assert.ok(page.results.some((u) => u.id === user.id));

  await client.settings.users.usersApi.archive(user.id);
  assert.equal((await client.crm.owners.ownersApi.getPage(email)).results.length, 0);
  assert.equal((await client.crm.owners.ownersApi.getPage(email, undefined, 100, true)).results.length, 1);
  await rejects(client.settings.users.usersApi.getById(user.id), 404);
});

test('forms: formsApi.getPage pages forms; submissions through apiRequest, newest first', async () => {
  const names = [`Contact us ${process.pid}`, `Demo ${process.pid}`, `Webinar ${process.pid}`];
  const forms = [];
  for (const name of names) forms.push(await admin('POST', '/forms', { name }));

  // The generated model reads HubSpotFormDefinition (formType "hubspot").
  const seen = [];
  let after;
  do {
    const page = await client.marketing.forms.formsApi.getPage(after, 2, false, ['hubspot', 'flow']);
    assert.ok(page.results.length <= 2);
    for (const f of page.results) {
      seen.push(f.id);
      assert.equal(f.formType, 'hubspot');
      assert.ok(f.createdAt instanceof Date && !isNaN(f.createdAt));
      assert.equal(f.fieldGroups[0].fields[0].name, 'email');
      assert.equal(f.fieldGroups[0].fields[0].objectTypeId, '0-1');
    }
    after = page.paging && page.paging.next && page.paging.next.after;
  } while (after);
  for (const f of forms) assert.ok(seen.includes(f.id), `forms list lacks ${f.id}`);
  const one = await client.marketing.forms.formsApi.getById(forms[0].id);
  assert.equal(one.name, names[0]);
  await rejects(client.marketing.forms.formsApi.getById('00000000-0000-4000-8000-000000000000'), 404);

  // Three submissions, a millisecond apart at least; the contact is made.
  const email = unique('form');
  const made = [];
  for (let i = 0; i < 3; i++) {
    made.push(await admin('POST', `/forms/${forms[1].id}/submissions`, {
      values: [{ name: 'email', value: email }, { name: 'firstname', value: `V${i}` }],
      pageUrl: 'https://example.com/demo',
      submittedAt: 1795435200000 + i * 60000,
    }));
  }
  const path = `/form-integrations/v1/submissions/forms/${forms[1].id}`;
  const res = await client.apiRequest({ method: 'GET', path, qs: { limit: 2 } });
  assert.equal(res.status, 200);
  const page1 = await res.json();
  assert.deepEqual(page1.results.map((r) => r.conversionId), [made[2].conversionId, made[1].conversionId]);
  assert.equal(page1.results[0].submittedAt, 1795435320000);
  assert.deepEqual(page1.results[0].values, [{ name: 'email', value: email }, { name: 'firstname', value: 'V2' }]);
  assert.equal(page1.results[0].pageUrl, 'https://example.com/demo');
  const page2 = await (await client.apiRequest({ method: 'GET', path, qs: { limit: 2, after: page1.paging.next.after } })).json();
  assert.deepEqual(page2.results.map((r) => r.conversionId), [made[0].conversionId]);
  assert.equal(page2.paging, undefined);
  const tooMany = await client.apiRequest({ method: 'GET', path, qs: { limit: 51 } });
  assert.equal(tooMany.status, 400);
  const missing = await client.apiRequest({ method: 'GET', path: '/form-integrations/v1/submissions/forms/nope' });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).status, 'error');

  const contact = await client.crm.contacts.basicApi.getById(email, ['num_conversion_events', 'recent_conversion_event_name', 'first_conversion_date'], undefined, undefined, false, 'email');
  assert.equal(contact.properties.num_conversion_events, '3');
  assert.equal(contact.properties.recent_conversion_event_name, names[1]);
  assert.equal(contact.properties.first_conversion_date, '2026-11-23T12:00:00.000Z');
});

test('email events: apiRequest pages /email/public/v1/events newest first; one event; the campaign', async () => {
  const email = unique('mail');
  await client.crm.contacts.basicApi.create({ properties: { email }, associations: [] });
  const campaign = await admin('POST', '/email/campaigns', { name: 'Digest', subject: 'This week' });
  const base = 1795435200000;
  const events = [];
  for (const [i, type] of ['SENT', 'DELIVERED', 'OPEN', 'CLICK'].entries()) {
    events.push(await admin('POST', '/email/events', {
      type, recipient: email, emailCampaignId: campaign.id, created: base + i * 1000,
      url: type === 'CLICK' ? 'https://example.com/x' : undefined,
    }));
  }
  const qs = { recipient: email, startTimestamp: base, endTimestamp: base + 60000, limit: 3 };
  const res = await client.apiRequest({ method: 'GET', path: '/email/public/v1/events', qs });
  assert.equal(res.status, 200);
  const page1 = await res.json();
  assert.deepEqual(page1.events.map((e) => e.type), ['CLICK', 'OPEN', 'DELIVERED']);
  assert.equal(page1.hasMore, true);
  const click = page1.events[0];
  assert.equal(click.url, 'https://example.com/x');
  assert.equal(click.recipient, email);
  assert.equal(click.emailCampaignId, campaign.id);
  assert.equal(typeof click.created, 'number');
  assert.equal(click.sentBy.id, events[0].id);
  const page2 = await (await client.apiRequest({ method: 'GET', path: '/email/public/v1/events', qs: { ...qs, offset: page1.offset } })).json();
  assert.deepEqual(page2.events.map((e) => e.type), ['SENT']);
  assert.equal(page2.hasMore, false);
  const opens = await (await client.apiRequest({ method: 'GET', path: '/email/public/v1/events', qs: { recipient: email, eventType: 'OPEN' } })).json();
  assert.deepEqual(opens.events.map((e) => e.id), [events[2].id]);
  const bad = await client.apiRequest({ method: 'GET', path: '/email/public/v1/events', qs: { eventType: 'open' } });
  assert.equal(bad.status, 400);

  const one = await (await client.apiRequest({ method: 'GET', path: `/email/public/v1/events/${events[2].created}/${events[2].id}` })).json();
  assert.equal(one.type, 'OPEN');
  const camp = await (await client.apiRequest({ method: 'GET', path: `/email/public/v1/campaigns/${campaign.id}` })).json();
  assert.equal(camp.name, 'Digest');
  assert.equal(camp.subject, 'This week');
  assert.equal(camp.counters.open, 1);

  const contact = await client.crm.contacts.basicApi.getById(email, ['hs_email_last_open_date', 'hs_email_last_send_date', 'hs_email_last_click_date'], undefined, undefined, false, 'email');
  assert.equal(contact.properties.hs_email_last_send_date, '2026-11-23T12:00:00.000Z');
  assert.equal(contact.properties.hs_email_last_open_date, '2026-11-23T12:00:02.000Z');
  assert.equal(contact.properties.hs_email_last_click_date, '2026-11-23T12:00:03.000Z');
});

test('engagements: hs_timestamp required; created with associations, read back with them', async () => {
  const contact = await client.crm.contacts.basicApi.create({ properties: { email: unique('eng') }, associations: [] });
  const deal = await client.crm.deals.basicApi.create({ properties: { dealname: `Deal ${process.pid}` }, associations: [] });

  await rejects(client.crm.objects.calls.basicApi.create({ properties: { hs_call_title: 'No time' }, associations: [] }), 400, (body) => {
    assert.equal(body.category, 'VALIDATION_ERROR');
    assert.deepEqual(body.context.properties, ['hs_timestamp']);
  });

  const call = await client.crm.objects.calls.basicApi.create({
    properties: { hs_timestamp: '2026-11-23T12:00:00.000Z', hs_call_title: 'Intro', hs_call_body: 'Talked' },
    associations: [
      { to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }] },
      { to: { id: deal.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 206 }] },
    ],
  });
  assert.match(call.id, /^\d+$/);
  // The client sends associations=contacts&associations=deals.
  const got = await client.crm.objects.calls.basicApi.getById(call.id, ['hs_call_title', 'hs_timestamp'], undefined, ['contacts', 'deals']);
  assert.equal(got.properties.hs_call_title, 'Intro');
  assert.equal(got.properties.hs_timestamp, '2026-11-23T12:00:00.000Z');
  assert.deepEqual(got.associations.contacts.results.map((r) => [r.id, r.type]), [[contact.id, 'call_to_contact']]);
  assert.deepEqual(got.associations.deals.results.map((r) => [r.id, r.type]), [[deal.id, 'call_to_deal']]);

  const back = await client.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'calls');
  assert.deepEqual(back.results.map((r) => String(r.toObjectId)), [call.id]);
  assert.equal(back.results[0].associationTypes[0].typeId, 193);

  // A note, a meeting and a task in milliseconds, associated with the deal.
  for (const [type, props, typeId] of [['notes', { hs_note_body: 'n' }, 214], ['meetings', { hs_meeting_title: 'm' }, 212], ['tasks', { hs_task_subject: 't' }, 216]]) {
    const made = await client.crm.objects[type].basicApi.create({
      properties: { hs_timestamp: '1795435200000', ...props },
      associations: [{ to: { id: deal.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] }],
    });
    const read = await client.crm.objects[type].basicApi.getById(made.id, ['hs_timestamp'], undefined, ['deals']);
    assert.equal(read.properties.hs_timestamp, '2026-11-23T12:00:00.000Z');
    assert.deepEqual(read.associations.deals.results.map((r) => r.id), [deal.id]);
  }
  // A type id of another pair is refused.
  await rejects(client.crm.objects.calls.basicApi.create({
    properties: { hs_timestamp: '1795435200000' },
    associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }],
  }), 400);
});

test('errors: JSON bodies for auth failures and unknown routes', async () => {
  const wrong = new hubspot.Client({ accessToken: 'pat-wrong', basePath });
  await rejects(wrong.crm.contacts.basicApi.getPage(1), 401, (body) => {
    assert.equal(body.category, 'INVALID_AUTHENTICATION');
  });
  const res = await client.apiRequest({ method: 'GET', path: '/crm/v3/not-a-route' });
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(body.status, 'error');
  assert.ok(body.correlationId && body.category && body.message);
  await rejects(client.crm.objects.basicApi.getById('no_such_type', '1'), 400);
});

test('limits: 429 with HubSpot policy names and headers, surfaced at once without retries', async () => {
  const limited = new hubspot.Client({ accessToken, basePath: process.env.HUBSPOT_LIMITED_PATH });
  const started = Date.now();
  let limitedErr;
  for (let i = 0; i < 10 && !limitedErr; i++) {
    try {
      await limited.crm.contacts.basicApi.getPage(1);
    } catch (e) {
      limitedErr = e;
    }
  }
  assert.ok(limitedErr, 'the burst limit never answered 429');
  assert.equal(limitedErr.code, 429);
  assert.equal(limitedErr.body.policyName, 'TEN_SECONDLY_ROLLING');
  assert.equal(limitedErr.headers['x-hubspot-ratelimit-remaining'], '0');
  assert.ok(limitedErr.headers['retry-after']);

  // Searches have their own per-second limit, answered with no
  // rate-limit headers and the message the client's retry decorator
  // recognises ("You have reached your secondly limit.").
  const search = { filterGroups: [], sorts: [], properties: [], limit: 1, after: '0' };
  let searchErr;
  for (let i = 0; i < 10 && !searchErr; i++) {
    try {
      await limited.crm.contacts.searchApi.doSearch(search);
    } catch (e) {
      searchErr = e;
    }
  }
  assert.ok(searchErr, 'the search limit never answered 429');
  assert.equal(searchErr.code, 429);
  assert.equal(searchErr.body.policyName, 'SECONDLY');
  assert.equal(searchErr.body.message, 'You have reached your secondly limit.');
  assert.equal(searchErr.headers['x-hubspot-ratelimit-remaining'], undefined);
  assert.ok(Date.now() - started < 5000, 'the client waited: a limiter or retries are on');
});
