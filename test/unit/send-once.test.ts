import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { SEND_ONCE_SCRIPT } from '../../src/console/send-once.ts';

// The console's send-once script over the little of the DOM it uses: a form with a single-use
// token is sent once, and a page brought back from the back/forward cache may send it again.

class Element {
  private attributes = new Map<string, string>();
  constructor(private readonly children: { once?: Element; buttons?: Element[] } = {}, attributes: string[] = []) {
    for (const a of attributes) this.attributes.set(a, '');
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
    ...target('document'),
    querySelectorAll(selector: string) {
      assert.equal(selector, 'form[data-sent]');
      return [form].filter((f) => f.hasAttribute('data-sent'));
    },
  };
  runInNewContext(SEND_ONCE_SCRIPT, { document, window: target('window') });
  /** Submits the form; whether the script stopped it. */
  const submit = () => {
    let prevented = false;
    listeners.get('document submit')!({ target: form, preventDefault: () => (prevented = true) });
    return prevented;
  };
  const pageshow = (e: { persisted: boolean; defaultPrevented?: boolean }) => listeners.get('window pageshow')!({ defaultPrevented: false, ...e });
  return { form, button: buttons[0]!, submit, pageshow };
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
});
