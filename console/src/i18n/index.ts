/**
 * English and Bangla with i18next. The choice is kept in sessionStorage with the key (nothing of the
 * console is written to localStorage); the first visit follows the browser's language.
 */
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { bn } from './bn';
import { en } from './en';

const STORAGE_KEY = 'ispnotify.language';
const initial = sessionStorage.getItem(STORAGE_KEY) ?? (navigator.language.startsWith('bn') ? 'bn' : 'en');

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, bn: { translation: bn } },
  lng: initial,
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
});

export function setLanguage(language: string) {
  sessionStorage.setItem(STORAGE_KEY, language);
  void i18n.changeLanguage(language);
}

export default i18n;
