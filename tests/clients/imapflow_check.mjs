// Drives a real npm IMAP client (imapflow) and SMTP client (nodemailer) against a Postern
// instance, for tests/e2e/test_imap_clients.py. Prints one JSON object with what it saw;
// the Python test asserts on it. Every step is bounded: the whole run gives up after 60 s.
//
//   node imapflow_check.mjs   (settings in the environment, see `env` below)

import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';

const env = {
    host: '127.0.0.1',
    imaps: Number(process.env.IMAPS_PORT),
    smtp: Number(process.env.SMTP_PORT),
    user: process.env.IMAP_USER,
    pass: process.env.IMAP_PASS,
    ca: fs.readFileSync(process.env.CA_FILE),
};

const watchdog = setTimeout(() => {
    console.error('imapflow_check: gave up after 60 s');
    process.exit(3);
}, 60000);

const client = new ImapFlow({
    host: env.host,
    port: env.imaps,
    secure: true,
    tls: { ca: env.ca, servername: process.env.TLS_NAME },
    auth: { user: env.user, pass: env.pass },
    logger: false,
});

const seen = {};
await client.connect();
seen.capabilities = [...client.capabilities.keys()];

// LIST: the special-use folders as imapflow understands them.
const folders = await client.list();
seen.folders = folders.map((f) => ({ path: f.path, specialUse: f.specialUse || null }));
if (!folders.some((f) => f.path === 'Archive')) await client.mailboxCreate('Archive');

// APPEND with a flag, then FETCH it back whole.
const raw =
    'From: Flow <flow@example.org>\r\nTo: ' + env.user + '\r\nSubject: appended by imapflow\r\n' +
    'Message-ID: <imapflow-1@example.org>\r\n\r\nbody from imapflow\r\n';
const appended = await client.append('INBOX', raw, ['\\Flagged']);
seen.append = { uid: appended.uid, uidValidity: Number(appended.uidValidity) };

let lock = await client.getMailboxLock('INBOX');
try {
    seen.exists = client.mailbox.exists;
    const msg = await client.fetchOne(String(appended.uid), { source: true, envelope: true, flags: true }, { uid: true });
    seen.fetch = {
        subject: msg.envelope.subject,
        from: msg.envelope.from[0].address,
        flags: [...msg.flags],
        sourceEqual: msg.source.toString() === raw,
    };
    const all = [];
    for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true })) {
        all.push({ uid: m.uid, subject: m.envelope.subject });
    }
    seen.fetchAll = all;

    // STORE: flags added and removed, read back.
    await client.messageFlagsAdd(String(appended.uid), ['\\Seen', 'Work'], { uid: true });
    await client.messageFlagsRemove(String(appended.uid), ['\\Flagged'], { uid: true });
    const after = await client.fetchOne(String(appended.uid), { flags: true }, { uid: true });
    seen.flagsAfter = [...after.flags].sort();

    // MOVE to Archive (COPYUID tells where it went).
    const moved = await client.messageMove(String(appended.uid), 'Archive', { uid: true });
    seen.move = { destination: moved.destination, uidMap: moved.uidMap ? [...moved.uidMap.entries()] : null };
    seen.existsAfterMove = client.mailbox.exists;
} finally {
    lock.release();
}

// IDLE: a message delivered by SMTP (nodemailer to the MX port) shows up as EXISTS.
lock = await client.getMailboxLock('INBOX');
try {
    const before = client.mailbox.exists;
    const arrived = new Promise((resolve) => {
        client.on('exists', (data) => {
            if (data.count > before) resolve(Date.now());
        });
    });
    const idling = client.idle();
    await new Promise((r) => setTimeout(r, 300)); // IDLE is on the wire
    const transport = nodemailer.createTransport({
        host: env.host, port: env.smtp, secure: false, ignoreTLS: true, name: 'client.test',
    });
    const sent = Date.now();
    await transport.sendMail({
        from: 'sender@example.org', to: env.user, subject: 'for the idler', text: 'wake up',
    });
    const delivered = Date.now();
    const at = await Promise.race([arrived, new Promise((r) => setTimeout(() => r(null), 10000))]);
    seen.idle = { arrived: at !== null, msAfterSmtpReply: at === null ? null : at - delivered, msAfterSend: at === null ? null : at - sent };
    void idling;
} finally {
    lock.release();
}

await client.logout();
clearTimeout(watchdog);
console.log(JSON.stringify(seen));
