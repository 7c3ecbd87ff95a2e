// GET /ui/ as served: the timeline page's files, their types and CSP, and no reference to any other
// origin (the page is self-contained). The browser test (timeline.test.ts) drives it for real.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { testApi } from '../api/helpers.js';

t.test('GET /ui/ serves the page, its script and its style, each with a CSP that allows this origin only', async (t) => {
  const api = await testApi(t);
  const page = await api.inject({ method: 'GET', url: '/ui/' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/);
  t.match(page.body, /<script type="module" src="\/ui\/timeline.js"><\/script>/);
  const script = await api.inject({ method: 'GET', url: '/ui/timeline.js' });
  t.equal(script.statusCode, 200);
  t.match(script.headers['content-type'], /^text\/javascript/);
  t.match(script.body, /\/v1\/accounts\/\$\{encodeURIComponent\(accountId\)\}\/audit/);
  t.match((await api.inject({ method: 'GET', url: '/ui/timeline.css' })).headers['content-type'], /^text\/css/);
  const bare = await api.inject({ method: 'GET', url: '/ui?account=alice' });
  t.equal(bare.statusCode, 301);
  t.equal(bare.headers.location, '/ui/?account=alice');
  // No wildcard here: /ui/client.js belongs to the app client's own route (SPEC §13), not to this page.
  const client = await api.inject({ method: 'GET', url: '/ui/client.js' });
  t.equal(client.statusCode, 200, '/ui/client.js is the client bundle');
  t.match(client.body, /createMiningClient/, 'served by the client route, not the timeline page');
  t.equal((await api.inject({ method: 'GET', url: '/ui/../package.json' })).statusCode, 404);
});

t.test('the page files name no other origin: no CDN, no external font, no absolute URL', async (t) => {
  const dir = new URL('../../src/ui/', import.meta.url);
  const files = readdirSync(dir);
  t.same(files.sort(), ['index.html', 'timeline.css', 'timeline.js']);
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    t.notMatch(text, /https?:\/\//, `${file} has no absolute URL`);
    t.notMatch(text, /@import|url\(/, `${file} loads nothing from CSS`);
  }
});
