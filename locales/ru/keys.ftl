## Key registry: /addkey dialog, certificate upload, /mykeys.

keys-intro = Добавим ключ — это меньше минуты. Я сохраню только описание ключа (название, даты, где лежит), сам ключ и пароль мне не нужны.
    Быстрее: пришлите открытый сертификат (.cer, .crt, .pem, .der) — я заполню даты сам.
keys-ask-kind = Где находится ключ?
btn-keys-kind-file = 💾 Файл на флешке или компьютере
btn-keys-kind-id_card = 🪪 Чип удостоверения личности
btn-keys-kind-token = 🔐 Токен (KazToken, eToken, JaCarta…)
btn-keys-kind-cloud = ☁️ Облачная ЭЦП в eGov Mobile
keys-ask-holder = На кого выпущен ключ?
btn-keys-holder-individual = 👤 На меня (физлицо или ИП)
btn-keys-holder-legal = 🏢 На организацию (ТОО, АО и др. юрлица)
keys-ask-company = Название организации или ваша роль в ней (например, «ТОО Альфа, директор»):
keys-ask-bin = БИН организации (12 цифр). Это необязательно — можно пропустить.
keys-ask-purpose = Для чего этот ключ?
btn-keys-purpose-auth = 🔑 Вход (AUTH)
btn-keys-purpose-sign_rsa = ✍️ Подпись (RSA)
btn-keys-purpose-sign_gost = ✍️ Подпись (ГОСТ)
btn-keys-purpose-both = 🔑✍️ Вход и подпись
keys-ask-issued = Когда выдан ключ? Напишите дату в виде ДД.ММ.ГГГГ (например, 15.03.2025) или нажмите «Сегодня».
keys-ask-expiry = Срок действия, скорее всего, до <b>{ $date }</b>. Если в сертификате или в личном кабинете pki.gov.kz другая дата — напишите её (ДД.ММ.ГГГГ).
keys-cloud-check = ℹ️ Срок облачной ЭЦП в eGov Mobile я знаю не точно — проверьте его в приложении.
keys-ask-storage = Где хранится ключ? Например: «моя флешка в домашнем сейфе», «токен в запертом ящике стола». Это поможет не потерять его.
    ⚠️ Не пишите сюда пароль, PIN-код или ИИН — такое я не сохраню.
keys-ask-label = Как назвать ключ? Например: «Моя ЭЦП для налогов». Или нажмите на предложенное название.
keys-label-suggested = { $kind } · { $purpose }
keys-summary-title = <b>Проверьте, всё ли верно:</b>
keys-field-label = Название: { $value }
keys-field-kind = Вид: { $value }
keys-field-holder = Владелец: { $value }
keys-field-company = Организация: { $value }
keys-field-bin = БИН: { $value }
keys-field-purpose = Назначение: { $value }
keys-field-issued = Выдан: { $value }
keys-field-expires = Действует до: { $value }
keys-field-storage = Где хранится: { $value }
keys-field-used = Последнее использование: { $value }
keys-field-renewals = Продлевался: { $count ->
        [one] { $count } раз
        [few] { $count } раза
       *[many] { $count } раз
    }
keys-field-reminders-off = 🔕 Напоминания выключены
keys-kind-file = Файл (флешка / компьютер)
keys-kind-id_card = Удостоверение личности
keys-kind-token = Токен
keys-kind-cloud = Облачная ЭЦП eGov Mobile
keys-holder-individual = физлицо
keys-holder-legal = организация
keys-purpose-auth = вход (AUTH)
keys-purpose-sign_rsa = подпись (RSA)
keys-purpose-sign_gost = подпись (ГОСТ)
keys-purpose-both = вход и подпись
btn-keys-back = ◀️ Назад
btn-keys-cancel = ✖️ Отмена
btn-keys-skip = Пропустить
btn-keys-today = 📅 Сегодня
btn-keys-expiry_ok = ✅ Да, до { $date }
btn-keys-save = 💾 Сохранить
btn-keys-add-more = ➕ Добавить ещё
keys-use-buttons = Выберите вариант кнопкой под сообщением.
keys-error-empty = Пустой ответ. Напишите, пожалуйста, текстом.
keys-error-too-long = Слишком длинно. Напишите, пожалуйста, короче — до { $limit } символов.
keys-error-bin = Это не похоже на БИН: нужно 12 цифр с верной контрольной цифрой. Проверьте или нажмите «Пропустить».
keys-sensitive-iin = ⚠️ Похоже, здесь ИИН или другой 12-значный номер. Я такое не сохраняю — напишите, пожалуйста, без него.
keys-sensitive-password = ⚠️ Похоже, здесь пароль или PIN-код. Я такое не сохраняю и никому не советую записывать пароль рядом с ключом. Напишите без него.
keys-sensitive-code = ⚠️ Похоже, здесь код из SMS. Коды никому не сообщайте, даже мне. Напишите без него.
keys-date-format = Не понял дату. Напишите в виде ДД.ММ.ГГГГ, например 15.03.2025, или «сегодня».
keys-date-invalid = Такой даты нет в календаре. Проверьте день и месяц.
keys-date-future = Дата выдачи не может быть в будущем. Проверьте, пожалуйста.
keys-date-too-old = НУЦ РК выдаёт ключи с 2004 года — более ранняя дата, скорее всего, опечатка.
keys-date-before-issue = Срок действия должен заканчиваться позже даты выдачи (или позже сегодняшнего дня при продлении).
keys-date-too-far = Ключи НУЦ действуют не дольше 3 лет. Проверьте год.
keys-stale = Эта кнопка устарела: ключ удалён или диалог уже закончен. Откройте /mykeys.
keys-dialog-ended = Этот диалог уже закончен. Чтобы добавить ключ, начните заново: /addkey.
keys-dialog-moved-on = Диалог ушёл дальше — ответьте на последний вопрос ниже.
keys-gone = Этот ключ удалён из списка. Откройте /mykeys.
keys-already-saved = Этот ключ уже сохранён.
keys-already-deleted = Этот ключ уже удалён.
keys-already-renewed = Продление уже записано.
keys-used-already = Уже отмечено: сегодня ключом пользовались.
keys-reminders-already-stopped = Напоминания по этому ключу уже выключены.
keys-reminders-already-resumed = Напоминания по этому ключу уже включены.
keys-cancelled = Добавление ключа отменено.
keys-limit = У вас уже { $limit } ключей — это максимум. Удалите ненужные в /mykeys, чтобы добавить новый.
keys-saved = ✅ Ключ «{ $label }» сохранён. Действует до { $date } — { $status }.

keys-status-valid = осталось { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }
keys-status-expiring = истекает через { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }
keys-status-today = истекает сегодня
keys-status-expired = истёк { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    } назад

keys-secret-refused = ⛔️ Это закрытый ключ (или контейнер .p12/.pfx с ним). Я его не скачивал и не сохранил.
    Закрытый ключ — это ваша подпись: у кого файл и пароль, тот может подписывать документы и входить в госсервисы от вашего имени. Никогда никому его не отправляйте — ни ботам, ни «помощникам», ни сотрудникам.
    Если ключ мог попасть к чужим (пересылали в чаты, на почту, в облако), отзовите его в личном кабинете на pki.gov.kz и выпустите новый.
    Для автозаполнения пришлите только открытый сертификат: .cer, .crt, .pem или .der.
keys-secret-delete-yourself = Удалить ваше сообщение я не смог — удалите его сами, пожалуйста.
keys-upload-unknown = Этот файл я не понимаю. Пришлите открытый сертификат (.cer, .crt, .pem, .der) или добавьте ключ вручную: /addkey
keys-upload-too-big = Файл слишком большой для сертификата (больше { $limit } КБ). Пришлите файл .cer или добавьте ключ вручную: /addkey
keys-upload-unreadable = Не получилось прочитать этот сертификат. Ничего страшного — заполним данные вручную.
keys-upload-private = ⛔️ Это закрытый ключ — я его не сохраняю.
keys-upload-failed = Не удалось получить файл из Telegram. Попробуйте отправить его ещё раз.
keys-cert-read = 📄 <b>Прочитал сертификат:</b>
keys-cert-owner = Владелец: { $value }
keys-cert-iin = ИИН: { $value }
keys-cert-dates = Действует: с { $start } по { $end }
keys-cert-purposes = Назначение: { $value }
keys-cert-purpose-auth = вход (AUTH)
keys-cert-purpose-sign = подпись (SIGN)
keys-cert-issuer = Выдал: { $value }
keys-cert-serial = Серийный номер: { $value }
keys-cert-not-nuc = ⚠️ Сертификат выдан не НУЦ РК. Проверьте, откуда он у вас.

keys-list-title = <b>Ваши ключи ({ $count }):</b>
keys-list-page = Страница { $page } из { $pages }
keys-list-empty = Ключей пока нет. Добавьте первый — это меньше минуты.
btn-keys-ics = 📅 Календарь (.ics)
keys-ics-title = Истекает ЭЦП: { $label }
keys-ics-description = Продлите ключ заранее: pki.gov.kz или eGov Mobile.
keys-ics-calendar = Ключи ЭЦП
keys-ics-caption = Откройте файл — сроки ключей появятся в вашем календаре с напоминаниями за 30, 7 и 1 день.
btn-keys-edit = ✏️ Изменить
btn-keys-renew = 🔄 Продлил(а)
btn-keys-used = ✅ Пользовался сегодня
btn-keys-where = 📍 Где лежит?
btn-keys-stop = 🔕 Выключить напоминания
btn-keys-resume = 🔔 Включить напоминания
btn-keys-delete = 🗑 Удалить
btn-keys-to-list = ◀️ К списку
keys-used-noted = Отметил: ключом пользовались сегодня.
keys-reminders-stopped = Напоминания по этому ключу выключены.
keys-reminders-resumed = Напоминания по этому ключу снова включены.
keys-where = 📍 <b>{ $label }</b>: { $note }
keys-where-none = место хранения не указано. Его можно добавить через «Изменить».
keys-delete-confirm = Удалить ключ «{ $label }» из списка? Сам ключ от этого не отзывается.
btn-keys-delete-yes = 🗑 Да, удалить
btn-keys-delete-no = Нет
keys-deleted = Ключ «{ $label }» удалён из списка. Если он больше не нужен или потерян — отзовите его на pki.gov.kz.

keys-edit-which = Что изменить?
btn-keys-field-label = Название
btn-keys-field-storage = Где хранится
btn-keys-field-kind = Вид
btn-keys-field-purpose = Назначение
btn-keys-field-holder = Владелец
btn-keys-field-company = Организация
btn-keys-field-bin = БИН
btn-keys-field-issued = Дата выдачи
btn-keys-field-expiry = Срок действия
keys-edit-ask-label = Новое название ключа:
keys-edit-ask-storage = Где теперь хранится ключ? (без паролей, PIN-кодов и ИИН)
keys-edit-ask-company = Название организации или ваша роль в ней:
keys-edit-ask-bin = БИН организации (12 цифр):
keys-edit-ask-issued = Дата выдачи (ДД.ММ.ГГГГ):
keys-edit-ask-expiry = Новый срок действия (ДД.ММ.ГГГГ):
keys-renew-ask = Ключ «{ $label }» продлён? Новый срок, скорее всего, до <b>{ $date }</b>. Нажмите кнопку или напишите дату из нового сертификата (ДД.ММ.ГГГГ).
keys-renewed = 🔄 Записал: новый срок до { $date }. Старый срок сохранён в истории.
keys-saved-will-remind = Я напомню заранее, когда подойдёт срок.
keys-saved-expired = ⚠️ Срок этого ключа уже истёк: продлить его онлайн нельзя, нужно оформить новую ЭЦП (онлайн на egov.kz, pki.gov.kz или в eGov Mobile). Подробнее — спросите меня «что делать, если ЭЦП истекла». Когда получите новый ключ, отметьте в его карточке «🔄 Продлил» или добавьте его.
