import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { SEND_ONCE_SCRIPT, STALLED_AFTER_MS } from '../../src/console/send-once.ts';

// The console's send-once script over the little of the DOM it uses: a form with a single-use
// token is sent once, and a page brought back from the back/forward cache may send it again.

class Element {
  private attributes = new Map<string, string>();
  className = '';
  textContent = '';
  /** Paragraphs the script added (what it says when a sending got no answer). */
  added: Element[] = [];
  parent?: Element;
  constructor(private readonly children: { once?: Element; buttons?: Element[] } = {}, attributes: string[] = []) {
    for (const a of attributes) this.attributes.set(a, '');
  }
  appendChild(child: Element) {
    child.parent = this;
    this.added.push(child);
  }
  remove() {
    this.parent?.added.splice(this.parent.added.indexOf(this), 1);
  }
  setAttribute(name: string, value: string) {
    this.attributes.set(name, value);
  }
  hasAttribute(name: string) {
    return this.attributes.has(name);
  }
  removeAttribute(name: string) {
    this.attributes.delete(name);
  }
  querySelector(selector: string) {
    if (selector === '.not-sent') return this.added.find((e) => e.className === 'not-sent') ?? null;
    assert.equal(selector, 'input[name="_once"]');
    return this.children.once ?? null;
  }
  querySelectorAll(selector: string) {
    assert.equal(selector, 'button');
    return this.children.buttons ?? [];
  }
}

/** A page with one form: a create form with its token, or an action form marked `data-once`, or a form with neither. */
function page(kind: 'token' | 'marked' | 'plain' = 'token') {
  const buttons = [new Element()];
  const form = new Element({ ...(kind === 'token' ? { once: new Element() } : {}), buttons }, kind === 'marked' ? ['data-once'] : []);
  const listeners = new Map<string, (e: object) => void>();
  const target = (name: string) => ({
    addEventListener: (type: string, listener: (e: object) => void) => listeners.set(`${name} ${type}`, listener),
  });
  const document = {
    // A page without an action's outcome to focus.
    querySelector: () => null,
    ...target('document'),
    createElement: () => new Element(),
    querySelectorAll(selector: string) {
      assert.equal(selector, 'form[data-sent]');
      return [form].filter((f) => f.hasAttribute('data-sent'));
    },
  };
  // The page's timers, run by the test: at most one waits at a time (a form's wait for its answer).
  let timer: { run: () => void; ms: number; id: number } | undefined;
  let ids = 0;
  const setTimeout = (run: () => void, ms: number) => (timer = { run, ms, id: ++ids }).id;
  const clearTimeout = (id: number) => {
    if (timer?.id === id) timer = undefined;
  };
  runInNewContext(SEND_ONCE_SCRIPT, { document, window: target('window'), setTimeout, clearTimeout, performance: { getEntriesByType: () => [] } });
  /** Lets the pending wait run out; how long it was. */
  const waitOut = () => {
    const t = timer;
    assert.ok(t, 'a wait is pending');
    timer = undefined;
    t.run();
    return t.ms;
  };
  /** Submits the form; whether the script stopped it. */
  const submit = () => {
    let prevented = false;
    listeners.get('document submit')!({ target: form, preventDefault: () => (prevented = true) });
    return prevented;
  };
  const pageshow = (e: { persisted: boolean; defaultPrevented?: boolean }) => listeners.get('window pageshow')!({ defaultPrevented: false, ...e });
  return { form, button: buttons[0]!, submit, pageshow, waitOut, waiting: () => timer !== undefined };
}

describe('send-once script', () => {
  it('sends a form once, and again once its page is brought back from the back/forward cache', () => {
    const p = page();
    assert.equal(p.submit(), false);
    assert.equal(p.button.hasAttribute('aria-disabled'), true);
    assert.equal(p.submit(), true, 'a second submit is ignored');
    p.pageshow({ persisted: false });
    assert.equal(p.submit(), true, 'a page loaded afresh is not one restored');
    p.pageshow({ persisted: true, defaultPrevented: true });
    assert.equal(p.submit(), true, 'a page whose restoring another script handled is left alone');
    p.pageshow({ persisted: true });
    assert.equal(p.form.hasAttribute('data-sent'), false);
    assert.equal(p.button.hasAttribute('aria-disabled'), false);
    assert.equal(p.submit(), false, 'the restored form is sent');
    assert.equal(p.submit(), true, 'once');
  });

  it('sends an action form marked data-once once, its button spent, and leaves other forms alone', () => {
    const marked = page('marked');
    assert.equal(marked.submit(), false);
    assert.equal(marked.button.hasAttribute('aria-disabled'), true, 'its button spent');
    assert.equal(marked.submit(), true, 'a double tap sends it once');
    const plain = page('plain');
    assert.equal(plain.submit(), false);
    assert.equal(plain.submit(), false, 'a form of neither kind is sent as often as it is submitted');
    assert.equal(plain.button.hasAttribute('aria-disabled'), false);
  });

  it('gives a sent action form back after 10 s without an answer, saying it may not have been sent', () => {
    const p = page('marked');
    assert.equal(p.submit(), false);
    assert.equal(p.submit(), true, 'a second tap while it is on its way is ignored');
    assert.equal(p.waitOut(), STALLED_AFTER_MS);
    assert.equal(p.button.hasAttribute('aria-disabled'), false, 'its button usable again');
    assert.equal(p.form.added.length, 1);
    assert.match(p.form.added[0]!.textContent, /^No answer after 10 s: it may not have been sent\. Try again/);
    assert.equal(p.submit(), false, 'sent again');
    assert.equal(p.form.added.length, 0, 'the saying goes with the new sending');
    assert.equal(p.submit(), true, 'once');
    // Brought back from the back/forward cache, the form is new: its old wait says nothing later.
    p.pageshow({ persisted: true });
    assert.equal(p.waiting(), false);
  });

  it('never gives back a create form whose answer shows a secret: a second sending would lose it', () => {
    const p = page('token');
    assert.equal(p.submit(), false);
    assert.equal(p.waiting(), false, 'no wait is armed');
    assert.equal(p.submit(), true, 'still sent once');
    assert.equal(p.button.hasAttribute('aria-disabled'), true);
  });
});
