// Drives the Salesforce simulator (pkg/sandbox/salesforcesim) with jsforce
// (pinned in package.json). Run by vendorclients_test.go, which starts the
// orgs and passes:
//   SF_INSTANCE_URL    the org, mounted under a prefix (also its login URL)
//   SF_ACCESS_TOKEN    a session of the integration user
//   SF_REFRESH_TOKEN   a refresh token for the same user
//   SF_ADMIN_URL       the org's admin API (/admin)
//   SF_LIMITED_URL, SF_LIMITED_TOKEN   an org with a tiny daily allocation
// Every expectation is what the REST API Developer Guide and jsforce's
// source define; a failure is a simulator bug unless the client is wrong.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const jsforce = require('jsforce');

const instanceUrl = process.env.SF_INSTANCE_URL;
assert.ok(instanceUrl && process.env.SF_ACCESS_TOKEN, 'SF_INSTANCE_URL and SF_ACCESS_TOKEN must be set (vendorclients_test.go sets them)');
const version = '62.0';
const conn = new jsforce.Connection({ instanceUrl, accessToken: process.env.SF_ACCESS_TOKEN, version });

async function rejects(promise, errorCode, check) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.errorCode, errorCode, `${e.message} (${JSON.stringify(e.data)})`);
    if (check) check(e);
    return e;
  }
  assert.fail(`expected ${errorCode}`);
}

async function admin(method, path, body) {
  const res = await fetch(process.env.SF_ADMIN_URL + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.status < 300, `admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const tag = `vc${process.pid}`;

test('sObject rows: create, retrieve, update, delete', async () => {
  const res = await conn.sobject('Account').create({ Name: `Acme ${tag}`, Website: 'https://acme.example.com' });
  assert.equal(res.success, true);
  assert.match(res.id, /^001[0-9A-Za-z]{15}$/);

  const acc = await conn.sobject('Account').retrieve(res.id);
  assert.equal(acc.Id, res.id);
  assert.equal(acc.Name, `Acme ${tag}`);
  assert.equal(acc.attributes.type, 'Account');
  assert.equal(acc.attributes.url, `/services/data/v${version}/sobjects/Account/${res.id}`);

  const some = await conn.sobject('Account').retrieve(res.id, { fields: ['Name', 'Website'] });
  assert.deepEqual(Object.keys(some).sort(), ['Name', 'Website', 'attributes']);

  const upd = await conn.sobject('Account').update({ Id: res.id, Website: 'https://acme.example.org' });
  assert.equal(upd.success, true);
  assert.equal((await conn.sobject('Account').retrieve(res.id)).Website, 'https://acme.example.org');

  const del = await conn.sobject('Account').destroy(res.id);
  assert.equal(del.success, true);
  await rejects(conn.sobject('Account').retrieve(res.id), 'ENTITY_IS_DELETED');
  await rejects(conn.sobject('Account').retrieve('001000000000000AAA'), 'NOT_FOUND');
});

test('error codes of single-record writes', async () => {
  await rejects(conn.sobject('Lead').create({ FirstName: 'No' }), 'REQUIRED_FIELD_MISSING', (e) => {
    assert.deepEqual([...e.data.fields].sort(), ['Company', 'LastName']);
  });
  await rejects(conn.sobject('Lead').create({ LastName: 'L', Company: 'C', Nope__c: 1 }), 'INVALID_FIELD');
  await rejects(conn.sobject('Lead').create({ LastName: 'L', Company: 'C', Status: 'Bogus' }), 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
  await rejects(conn.sobject('Lead').create({ LastName: 'L', Company: 'C', Email: 'not-an-email' }), 'INVALID_EMAIL_ADDRESS');
  await rejects(conn.sobject('Lead').create({ LastName: 'L', Company: 'C', Score_Band__c: 'Hot' }), 'INVALID_FIELD_FOR_INSERT_UPDATE');
  await rejects(conn.sobject('Contact').create({ LastName: 'L', AccountId: '001000000000000AAA' }), 'INVALID_CROSS_REFERENCE_KEY');
  await rejects(conn.sobject('Nope__c').create({ Name: 'x' }), 'NOT_FOUND');
});

test('sObject Collections: create, retrieve, update, upsert, delete, allOrNone, 200 cap', async () => {
  const recs = Array.from({ length: 5 }, (_, i) => ({ Name: `Coll ${tag} ${i}`, HubSpot_Id__c: `${tag}-${i}` }));
  const created = await conn.sobject('Account').create(recs);
  assert.equal(created.length, 5);
  assert.ok(created.every((r) => r.success && r.id));
  const ids = created.map((r) => r.id);

  // retrieve of several ids is POST /composite/sobjects/Account {ids, fields}.
  const got = await conn.sobject('Account').retrieve(ids, { fields: ['Name', 'HubSpot_Id__c'] });
  assert.deepEqual(got.map((r) => r.Name), recs.map((r) => r.Name));
  // Without fields jsforce describes the object and asks for every field.
  const full = await conn.sobject('Account').retrieve(ids.slice(0, 2));
  assert.equal(full[1].Id, ids[1]);

  const upd = await conn.sobject('Account').update(ids.map((Id) => ({ Id, Industry: 'Retail' })));
  assert.ok(upd.every((r) => r.success), JSON.stringify(upd));

  const ups = await conn.sobject('Account').upsert(
    [
      { Name: `Coll ${tag} 0 renamed`, HubSpot_Id__c: `${tag}-0` },
      { Name: `Coll ${tag} new`, HubSpot_Id__c: `${tag}-new` },
    ],
    'HubSpot_Id__c',
  );
  assert.deepEqual(ups.map((r) => [r.success, r.created]), [[true, false], [true, true]]);
  assert.equal(ups[0].id, ids[0]);

  // allOrNone: one bad record rolls every record back.
  const bad = await conn.sobject('Account').create([{ Name: `AON ${tag}` }, { Website: 'no name' }], { allOrNone: true }).catch((e) => e);
  const failures = Array.isArray(bad) ? bad : bad.data;
  assert.ok(Array.isArray(failures), `allOrNone answer: ${JSON.stringify(bad)}`);
  assert.equal(failures[0].success, false);
  assert.equal(failures[0].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
  assert.equal(failures[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
  const aon = await conn.query(`SELECT Id FROM Account WHERE Name = 'AON ${tag}'`);
  assert.equal(aon.totalSize, 0);

  const del = await conn.sobject('Account').destroy([...ids, ups[1].id]);
  assert.ok(del.every((r) => r.success));

  // More than 200 records in one call is refused (EXCEEDED_ID_LIMIT).
  const tooMany = Array.from({ length: 201 }, (_, i) => ({ attributes: { type: 'Account' }, Name: `Cap ${i}` }));
  await rejects(
    conn.request({ method: 'POST', url: `/services/data/v${version}/composite/sobjects`, body: JSON.stringify({ records: tooMany }), headers: { 'content-type': 'application/json' } }),
    'EXCEEDED_ID_LIMIT',
  );
});

test('campaigns and members: create, query, DUPLICATE_VALUE, member statuses, inactive campaigns', async () => {
  const camp = await conn.sobject('Campaign').create({ Name: `Webinar ${tag}`, IsActive: true });
  assert.equal(camp.success, true);
  assert.match(camp.id, /^701[0-9A-Za-z]{15}$/);
  const found = await conn.query(`SELECT Id, IsActive, Name, Status FROM Campaign WHERE Id = '${camp.id}'`);
  assert.equal(found.totalSize, 1);
  assert.equal(found.records[0].IsActive, true);
  assert.equal(found.records[0].Name, `Webinar ${tag}`);
  assert.equal(found.records[0].Status, 'Planned');
  await rejects(conn.sobject('Campaign').create({ IsActive: true }), 'REQUIRED_FIELD_MISSING', (e) => {
    assert.deepEqual(e.data.fields, ['Name']);
  });

  // Every new campaign has the member statuses Sent (default) and Responded.
  const statuses = await conn.query(`SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus WHERE CampaignId = '${camp.id}' ORDER BY SortOrder`);
  assert.deepEqual(statuses.records.map((r) => [r.Label, r.IsDefault, r.HasResponded]), [['Sent', true, false], ['Responded', false, true]]);

  const lead = await conn.sobject('Lead').create({ LastName: `Member ${tag}`, Company: 'C' });
  const member = await conn.sobject('CampaignMember').create({ CampaignId: camp.id, LeadId: lead.id });
  assert.equal(member.success, true);
  assert.match(member.id, /^00v[0-9A-Za-z]{15}$/);
  const m = await conn.sobject('CampaignMember').retrieve(member.id, { fields: ['Status', 'HasResponded'] });
  assert.equal(m.Status, 'Sent');
  assert.equal(m.HasResponded, false);
  const q = await conn.query(`SELECT Id FROM CampaignMember WHERE CampaignId = '${camp.id}' AND LeadId = '${lead.id}'`);
  assert.deepEqual(q.records.map((r) => r.Id), [member.id]);

  // A second membership: jsforce rejects with the org's DUPLICATE_VALUE.
  await rejects(conn.sobject('CampaignMember').create({ CampaignId: camp.id, LeadId: lead.id }), 'DUPLICATE_VALUE', (e) => {
    assert.equal(e.message, 'Already a campaign member.');
  });

  // A status the campaign does not have becomes its default status.
  const contact = await conn.sobject('Contact').create({ LastName: `Member ${tag}` });
  const odd = await conn.sobject('CampaignMember').create({ CampaignId: camp.id, ContactId: contact.id, Status: 'Attended' });
  assert.equal((await conn.sobject('CampaignMember').retrieve(odd.id, { fields: ['Status'] })).Status, 'Sent');
  await rejects(conn.sobject('CampaignMember').create({ CampaignId: camp.id }), 'REQUIRED_FIELD_MISSING');

  // Inactive campaigns take members.
  const old = await conn.sobject('Campaign').create({ Name: `Old ${tag}` });
  const inOld = await conn.sobject('CampaignMember').create({ CampaignId: old.id, ContactId: contact.id, Status: 'Responded' });
  const r = await conn.sobject('CampaignMember').retrieve(inOld.id, { fields: ['Status', 'HasResponded'] });
  assert.deepEqual([r.Status, r.HasResponded], ['Responded', true]);
});

test('tasks: WhoId, defaults, error codes, collections create, describe', async () => {
  const acc = await conn.sobject('Account').create({ Name: `Task account ${tag}` });
  const contact = await conn.sobject('Contact').create({ LastName: `Task ${tag}`, AccountId: acc.id });
  const task = await conn.sobject('Task').create({ WhoId: contact.id, Subject: 'Call: intro', TaskSubtype: 'Call', CallDurationInSeconds: 90 });
  assert.equal(task.success, true);
  assert.match(task.id, /^00T[0-9A-Za-z]{15}$/);
  const t = await conn.sobject('Task').retrieve(task.id);
  assert.equal(t.Status, 'Not Started');
  assert.equal(t.Priority, 'Normal');
  assert.equal(t.IsClosed, false);
  assert.equal(t.AccountId, acc.id);
  assert.equal(t.CallDurationInSeconds, 90);

  // The WhoId of an account: the org's FIELD_INTEGRITY_EXCEPTION on WhoId
  // (jsforce issue #1006 shows a real org's answer).
  await rejects(conn.sobject('Task').create({ WhoId: acc.id, Subject: 'x' }), 'FIELD_INTEGRITY_EXCEPTION', (e) => {
    assert.equal(e.message, `Name ID: id value of incorrect type: ${acc.id}`);
    assert.deepEqual(e.data.fields, ['WhoId']);
  });
  await rejects(conn.sobject('Task').update({ Id: task.id, TaskSubtype: 'Email' }), 'INVALID_FIELD_FOR_INSERT_UPDATE');
  const done = await conn.sobject('Task').update({ Id: task.id, Status: 'Completed' });
  assert.equal(done.success, true);
  assert.equal((await conn.sobject('Task').retrieve(task.id)).IsClosed, true);

  // sObject Collections create with allOrNone false: one result per record.
  const many = await conn.sobject('Task').create(
    [
      { WhoId: contact.id, Subject: 'Email: hello', TaskSubtype: 'Email', Status: 'Completed' },
      { WhoId: acc.id, Subject: 'Email: to an account' },
      { WhoId: contact.id, Subject: 'x'.repeat(256) },
      { WhoId: contact.id, WhatId: acc.id, Subject: 'Meeting', Priority: 'High' },
    ],
    { allOrNone: false },
  );
  assert.deepEqual(many.map((r) => r.success), [true, false, false, true]);
  assert.equal(many[1].errors[0].statusCode, 'FIELD_INTEGRITY_EXCEPTION');
  assert.deepEqual(many[1].errors[0].fields, ['WhoId']);
  assert.equal(many[2].errors[0].statusCode, 'STRING_TOO_LONG');
  const ids = many.filter((r) => r.success).map((r) => r.id);
  const got = await conn.sobject('Task').retrieve(ids, { fields: ['Subject', 'IsClosed', 'IsHighPriority'] });
  assert.deepEqual(got.map((r) => [r.Subject, r.IsClosed, r.IsHighPriority]), [['Email: hello', true, false], ['Meeting', false, true]]);

  const d = await conn.sobject('Task').describe();
  assert.equal(d.keyPrefix, '00T');
  const field = (name) => d.fields.find((f) => f.name === name);
  assert.deepEqual(field('WhoId').referenceTo, ['Contact', 'Lead']);
  assert.equal(field('Subject').type, 'combobox');
  assert.equal(field('Subject').length, 255);
  assert.equal(field('Description').length, 32000);
  assert.equal(field('ActivityDate').type, 'date');
  assert.deepEqual([field('TaskSubtype').createable, field('TaskSubtype').updateable], [true, false]);
  assert.deepEqual([field('IsClosed').createable, field('IsClosed').updateable, field('IsClosed').calculated], [false, false, false]);
  assert.ok(field('Status').picklistValues.some((p) => p.value === 'Not Started' && p.defaultValue));
  assert.ok(field('Priority').picklistValues.some((p) => p.value === 'Normal' && p.defaultValue));
});

test('SOQL: paging with nextRecordsUrl and queryMore, autoFetch, builder, queryAll, errors', async () => {
  const n = 450;
  for (let lo = 0; lo < n; lo += 200) {
    const batch = Array.from({ length: Math.min(200, n - lo) }, (_, i) => ({ LastName: `Page ${tag}`, FirstName: `P${String(lo + i).padStart(4, '0')}` }));
    const res = await conn.sobject('Contact').create(batch);
    assert.ok(res.every((r) => r.success));
  }
  const soql = `SELECT Id, FirstName FROM Contact WHERE LastName = 'Page ${tag}' ORDER BY FirstName`;
  // Sforce-Query-Options: batchSize=200 — the smallest batch the API honours.
  const headers = { 'Sforce-Query-Options': 'batchSize=200' };
  const first = await conn.query(soql, { headers });
  assert.equal(first.totalSize, n);
  assert.equal(first.done, false);
  assert.equal(first.records.length, 200);
  // jsforce rebuilds nextRecordsUrl from the locator (the part after
  // /query/), so only that part is the org's.
  assert.match(first.nextRecordsUrl, new RegExp(`/services/data/v${version}/query/01g[0-9A-Za-z]+-200$`));
  const second = await conn.queryMore(first.nextRecordsUrl, { headers });
  assert.equal(second.records.length, 200);
  const third = await conn.queryMore(second.nextRecordsUrl, { headers });
  assert.equal(third.records.length, 50);
  assert.equal(third.done, true);
  assert.equal(third.nextRecordsUrl, undefined);
  const names = [...first.records, ...second.records, ...third.records].map((r) => r.FirstName);
  assert.deepEqual(names, [...names].sort());

  const all = await conn.query(soql, { headers, autoFetch: true, maxFetch: 1000 });
  assert.equal(all.records.length, n);

  // The query builder's SOQL (conditions, sort, limit).
  const found = await conn.sobject('Contact').find({ LastName: `Page ${tag}`, FirstName: { $like: 'P000%' } }, ['Id', 'FirstName']).sort('-FirstName').limit(3);
  assert.deepEqual(found.map((r) => r.FirstName), ['P0009', 'P0008', 'P0007']);

  const victim = first.records[0].Id;
  await conn.sobject('Contact').destroy(victim);
  const live = await conn.query(`SELECT Id FROM Contact WHERE LastName = 'Page ${tag}'`);
  assert.equal(live.totalSize, n - 1);
  const withDeleted = await conn.query(`SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Page ${tag}'`, { scanAll: true });
  assert.equal(withDeleted.totalSize, n);

  await rejects(conn.query('SELEKT Id FROM Contact'), 'MALFORMED_QUERY');
  await rejects(conn.query('SELECT Nope FROM Contact'), 'INVALID_FIELD');
  await rejects(conn.query('SELECT Id FROM Nope'), 'INVALID_TYPE');
  await rejects(conn.queryMore(`/services/data/v${version}/query/01gNOPE-2000`), 'INVALID_QUERY_LOCATOR');
});

test('describe and describeGlobal', async () => {
  const lead = await conn.sobject('Lead').describe();
  assert.equal(lead.name, 'Lead');
  assert.equal(lead.keyPrefix, '00Q');
  const field = (name) => lead.fields.find((f) => f.name === name);
  assert.equal(field('LastName').nillable, false);
  assert.equal(field('Status').restrictedPicklist, true);
  assert.ok(field('Status').picklistValues.some((p) => p.value === 'Open - Not Contacted' && p.defaultValue));
  assert.equal(field('Score_Band__c').calculated, true);
  assert.equal(field('HubSpot_Id__c').externalId, true);
  assert.equal(field('StateCode').dependentPicklist, true);

  const global = await conn.describeGlobal();
  assert.equal(global.maxBatchSize, 200);
  const names = global.sobjects.map((s) => s.name);
  for (const n of ['Account', 'Contact', 'Lead', 'Opportunity', 'Task', 'User']) assert.ok(names.includes(n), `describeGlobal lacks ${n}`);
  const acc = global.sobjects.find((s) => s.name === 'Account');
  assert.equal(acc.keyPrefix, '001');
  assert.equal(acc.urls.describe, `/services/data/v${version}/sobjects/Account/describe`);
});

test('getUpdated and getDeleted', async () => {
  const start = new Date(Date.now() - 60 * 60 * 1000);
  const res = await conn.sobject('Account').create({ Name: `Repl ${tag}` });
  await conn.sobject('Account').destroy(res.id);
  const end = new Date(Date.now() + 2 * 60 * 1000);
  const deleted = await conn.sobject('Account').deleted(start, end);
  assert.ok(deleted.deletedRecords.some((d) => d.id === res.id));
  assert.ok(deleted.latestDateCovered);
  const keep = await conn.sobject('Account').create({ Name: `Repl keep ${tag}` });
  const updated = await conn.sobject('Account').updated(start, end);
  assert.ok(updated.ids.includes(keep.id));
  await rejects(conn.sobject('Account').updated(new Date(Date.now() - 40 * 24 * 3600 * 1000), end), 'INVALID_REPLICATION_DATE');
});

test('limits: /limits, Sforce-Limit-Info, REQUEST_LIMIT_EXCEEDED', async () => {
  const limits = await conn.limits();
  assert.ok(limits.DailyApiRequests.Max > 0);
  assert.ok(limits.DailyApiRequests.Remaining < limits.DailyApiRequests.Max);
  assert.ok(conn.limitInfo.apiUsage && conn.limitInfo.apiUsage.limit === limits.DailyApiRequests.Max, JSON.stringify(conn.limitInfo));

  const limited = new jsforce.Connection({ instanceUrl: process.env.SF_LIMITED_URL, accessToken: process.env.SF_LIMITED_TOKEN, version });
  let err;
  for (let i = 0; i < 10 && !err; i++) {
    await limited.limits().catch((e) => {
      err = e;
    });
  }
  assert.ok(err, 'the daily allocation never ran out');
  assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED');
});

test('unknown resources answer the REST error shape', async () => {
  await rejects(conn.request(`/services/data/v${version}/nothing/here`), 'NOT_FOUND');
  await rejects(conn.request(`/services/data/v${version}/sobjects/Account/001000000000000AAA/extra/deep`), 'NOT_FOUND');
});

test('sessions: an expired session is refreshed with the refresh token', async () => {
  const c = new jsforce.Connection({
    oauth2: { clientId: 'crmsync-vendorclients', clientSecret: 'unused', loginUrl: instanceUrl, redirectUri: 'http://localhost/callback' },
    instanceUrl,
    accessToken: 'not-a-session',
    refreshToken: process.env.SF_REFRESH_TOKEN,
    version,
  });
  let refreshed = '';
  c.on('refresh', (token) => {
    refreshed = token;
  });
  const res = await c.query('SELECT Id FROM User');
  assert.ok(res.totalSize >= 1);
  assert.ok(refreshed && c.accessToken === refreshed, 'jsforce did not refresh the session');

  const first = refreshed;
  // Every session expires, this test's first connection's too: this test
  // runs last.
  await admin('DELETE', '/sessions');
  const stale = new jsforce.Connection({ instanceUrl, accessToken: first, version });
  await rejects(stale.query('SELECT Id FROM User'), 'INVALID_SESSION_ID');
  await c.query('SELECT Id FROM User');
  assert.notEqual(c.accessToken, first, 'no second refresh after the sessions expired');
  assert.equal(c.accessToken, refreshed);
});
