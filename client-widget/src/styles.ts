/**
 * The widget's styles, scoped to its shadow root (nothing reaches the host
 * page). Colours meet WCAG 2.1 AA: text >= 4.5:1, controls and focus >= 3:1.
 * Sizes are in px so the host page's root font size does not change them.
 */
const CSS = `
:host{all:initial}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.ct-root{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;text-align:left;direction:ltr}
button,input,select,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer}
button:disabled{cursor:default;opacity:.75}
p{margin:0 0 10px}
h2,h3{margin:0;font-weight:600}
a{color:inherit}
:focus-visible{outline:3px solid #0842a0;outline-offset:2px;box-shadow:0 0 0 2px #fff}
.ct-sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}

.ct-launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:2px solid #fff;background:#0b57d0;color:#fff;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.3);z-index:1}
.ct-launcher svg{width:28px;height:28px}
.ct-launcher:hover{background:#0842a0}
.ct-left .ct-launcher{right:auto;left:20px}
.ct-badge-count{position:absolute;top:-6px;right:-6px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b3261e;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff;box-sizing:content-box}

.ct-panel{position:fixed;right:20px;bottom:92px;width:380px;max-width:calc(100vw - 40px);height:600px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border:1px solid #8a94a0;border-radius:12px;box-shadow:0 10px 36px rgba(0,0,0,.28);overflow:hidden;z-index:2;animation:ct-in .18s ease-out}
.ct-left .ct-panel{right:auto;left:20px}
@keyframes ct-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
.ct-header{display:flex;align-items:center;gap:8px;padding:10px 8px 10px 16px;background:#0b57d0;color:#fff;flex:none}
.ct-header h2{flex:1;min-width:0;font-size:17px;overflow-wrap:anywhere}
.ct-icon-button{flex:none;display:inline-flex;align-items:center;justify-content:center;width:44px;height:44px;padding:0;border:0;border-radius:8px;background:transparent;color:inherit}
.ct-header .ct-icon-button:hover{background:#0842a0}
.ct-away{margin:0;padding:8px 16px;background:#fff4e5;color:#5c3b00;border-bottom:1px solid #e0c9a6;font-size:14px;flex:none}
.ct-body{flex:1;min-height:0;display:flex;flex-direction:column}
.ct-chat,.ct-main{flex:1;min-height:0;display:flex;flex-direction:column}
.ct-scroll{flex:1;min-height:0;overflow-y:auto;padding:16px}
.ct-center{padding:24px 16px}

.ct-form{display:flex;flex-direction:column;gap:12px}
.ct-form p{margin:0}
.ct-field{display:flex;flex-direction:column;gap:4px}
.ct-field label,.ct-fieldset legend{font-weight:600}
.ct-field input,.ct-field select,.ct-composer textarea{width:100%;min-height:44px;padding:9px 10px;border:1px solid #6b7480;border-radius:8px;background:#fff;color:#1b1f24}
.ct-field input[aria-invalid=true]{border:2px solid #b3261e}
.ct-fieldset{margin:0;padding:0;border:0;display:flex;flex-direction:column;gap:8px}
.ct-fieldset legend{padding:0;margin-bottom:8px}
.ct-check{display:grid;grid-template-columns:24px 1fr;gap:4px 8px;align-items:start}
.ct-check input{width:20px;height:20px;margin:2px 0 0;accent-color:#0b57d0}
.ct-check .ct-error{grid-column:2}
.ct-error{color:#b3261e;font-size:14px;font-weight:600;margin:0}
.ct-error:empty{display:none}
.ct-hint{color:#4d5560;font-size:13px;margin:0}
.ct-notice{padding:10px 12px;border-radius:8px;background:#eef1f5;color:#1b1f24}
.ct-primary,.ct-secondary{min-height:44px;padding:10px 16px;border-radius:8px;font-weight:600;border:2px solid #0b57d0}
.ct-primary{background:#0b57d0;color:#fff}
.ct-primary:hover{background:#0842a0;border-color:#0842a0}
.ct-secondary{background:#fff;color:#0b57d0;margin-top:12px;width:100%}
.ct-secondary:hover{background:#eef1f5}
.ct-form h3{font-size:16px}

.ct-actions{display:flex;flex-wrap:wrap;gap:6px;padding:8px 12px;border-bottom:1px solid #d5dae0;flex:none}
.ct-action{min-height:32px;padding:4px 10px;border:1px solid #0b57d0;border-radius:16px;background:#fff;color:#0b57d0;font-size:13px;font-weight:600}
.ct-action:hover{background:#eef1f5}
.ct-offline{margin:0;padding:6px 12px;background:#eef1f5;color:#1b1f24;font-size:13px;flex:none}
.ct-log{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:12px;background:#f6f8fb}
.ct-list{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:10px}
.ct-msg{display:flex;flex-direction:column;max-width:85%;align-self:flex-start}
.ct-mine{align-self:flex-end;align-items:flex-end}
.ct-bubble{padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #d5dae0;color:#1b1f24;overflow-wrap:anywhere}
.ct-mine .ct-bubble{background:#0b57d0;border-color:#0b57d0;color:#fff}
.ct-text{margin:0;white-space:pre-wrap}
.ct-meta{display:flex;flex-wrap:wrap;gap:6px;margin-top:3px;font-size:12px;color:#4d5560}
.ct-badge{padding:0 6px;border-radius:8px;background:#e3e7ec;color:#1b1f24}
.ct-status-failed{color:#b3261e;font-weight:600}
.ct-files{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-direction:column;gap:4px}
.ct-image{display:block;max-width:100%;max-height:240px;border-radius:8px}
.ct-link{padding:0;border:0;background:none;text-decoration:underline;text-align:left;color:inherit;font-weight:600}
.ct-error-inline{display:block;font-size:13px}
.ct-typing{margin:0;padding:4px 12px;font-size:13px;color:#4d5560;background:#f6f8fb;flex:none}

.ct-csat{flex:none;padding:10px 12px;border-top:1px solid #d5dae0;background:#fff;max-height:50%;overflow-y:auto}
.ct-csat h3{font-size:15px;margin-bottom:4px}
.ct-csat .ct-form{gap:8px}
.ct-stars{display:flex;gap:4px}
.ct-star{width:44px;height:44px;padding:0;border:1px solid #6b7480;border-radius:8px;background:#fff;color:#4d5560;font-size:24px;line-height:1}
.ct-star:hover{background:#eef1f5}
.ct-star-on{color:#8a5300;border-color:#8a5300;background:#fff4e5}
.ct-star[aria-pressed=true]{border-width:2px}
.ct-csat-comment{width:100%;min-height:44px;padding:8px 10px;border:1px solid #6b7480;border-radius:8px;resize:vertical}
.ct-csat-actions{display:flex;align-items:center;gap:8px}
.ct-csat .ct-primary{min-height:40px;padding:6px 14px}
.ct-composer{flex:none;padding:8px 10px 10px;border-top:1px solid #d5dae0;background:#fff}
.ct-composer .ct-error{margin-bottom:6px}
.ct-compose-row{display:flex;align-items:flex-end;gap:6px}
.ct-composer textarea{flex:1;min-width:0;resize:none;max-height:140px;line-height:1.4}
.ct-composer textarea::placeholder{color:#5f6670;opacity:1}
.ct-compose-row .ct-icon-button{color:#1b1f24}
.ct-compose-row .ct-icon-button:hover{background:#eef1f5}
.ct-send{flex:none;display:inline-flex;align-items:center;gap:6px;min-height:44px;padding:0 14px;border:0;border-radius:8px;background:#0b57d0;color:#fff;font-weight:600}
.ct-send:hover{background:#0842a0}
.ct-send svg{width:18px;height:18px}
.ct-staged{list-style:none;margin:0 0 6px;padding:0;display:flex;flex-wrap:wrap;gap:6px}
.ct-chip{display:inline-flex;align-items:center;gap:2px;padding:2px 2px 2px 10px;border-radius:16px;background:#eef1f5;font-size:13px;max-width:100%}
.ct-chip span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ct-chip-remove{display:inline-flex;width:32px;height:32px;align-items:center;justify-content:center;border:0;border-radius:50%;background:transparent}
.ct-chip-remove svg{width:16px;height:16px}

@media (max-width:480px),(max-height:560px){
.ct-panel{inset:0;width:auto;height:auto;max-width:none;max-height:none;border:0;border-radius:0}
.ct-open .ct-launcher{display:none}
}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;scroll-behavior:auto!important}}
@media (forced-colors:active){.ct-bubble,.ct-action,.ct-launcher,.ct-panel{border:1px solid CanvasText}}
@media print{.ct-root{display:none}}
`;

/** Constructable stylesheet when supported (not subject to a host page's style-src CSP), else a <style> element. */
export function applyStyles(root: ShadowRoot): void {
  try {
    if (!('adoptedStyleSheets' in root)) throw new Error('no constructable stylesheets');
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.appendChild(style);
  }
}
