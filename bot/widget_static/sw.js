/* tasktalk service worker: shows Web Push notifications, even with the page closed.
 * The payload is JSON {title, body, tag} from adapters/webpush.py. */
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : "" };
  }
  var title = typeof data.title === "string" && data.title ? data.title : "tasktalk";
  var options = { body: typeof data.body === "string" ? data.body : "", lang: "en" };
  if (typeof data.tag === "string" && data.tag) options.tag = data.tag;
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if ("focus" in list[i]) return list[i].focus();
      }
      return self.clients.openWindow("/");
    })
  );
});
