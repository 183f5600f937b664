/** Entry point of /inbox/app.js. */
import { render } from 'preact';
import { App } from './components/App.tsx';
import { watchActivity } from './activity.ts';

watchActivity();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
